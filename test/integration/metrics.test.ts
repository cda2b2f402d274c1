/**
 * `secrets-dr worker --metrics-port N` as a separate process on the dev server + lab, reaching
 * Temporal through a config profile (TEMPORAL_CONFIG_FILE + TEMPORAL_PROFILE, no TEMPORAL_ADDRESS)
 * and logging with SECRETS_DR_LOG_FORMAT=json. A planned failover under a write throttle, a drill
 * and a monitor that sees the primary go down; the Prometheus endpoint is scraped after each and
 * the domain counters and gauges must have moved with the right labels, next to the SDK's own.
 *
 * "Every line" below: every line the worker process writes to stderr and stdout from start to
 * SIGTERM, and every line the `receiver` process (JSON logs, one /health and one refused POST)
 * writes to stderr, each parsed as one JSON object {ts, level, msg, fields}. The receiver's one
 * stdout line ("receiver listening on …") is for humans and is not part of the log stream.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { failoverWorkflowId, monitorWorkflowId, workflowTaskQueue } from '../../domain/ids.js';
import type { FailoverReport } from '../../domain/failover.js';
import type { Plan } from '../../domain/plan.js';
import { startDrill } from '../../cli/commands/drill.js';
import { LAB_CREDENTIALS } from '../../lab/stack.js';
import { eventually, LAB_ONLY, onAws, startHarness, type Harness } from '../support/integration.js';
import { CLI_RUN, requireBuilt, spawnWorker, type SpawnedWorker } from '../support/worker-process.js';
import { monitorStopSignal } from '../../workflows/monitor.messages.js';
import type { monitorWorkflow } from '../../workflows/monitor.workflow.js';
import type { failoverWorkflow } from '../../workflows/failover.workflow.js';

let h: Harness;
let worker: SpawnedWorker;
let port: number;
let prefix: string;
const logs: string[] = [];
const values: string[] = [];

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const p = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return p;
}

async function scrape(): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`);
  expect(res.status).toBe(200);
  return res.text();
}

/** Sum of the samples of `name` whose labels include `labels` (Prometheus text format). */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  let sum: number | undefined;
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)/.exec(line);
    if (!m || m[1] !== name) continue;
    const got = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => got[k] === v)) sum = (sum ?? 0) + Number(m[3]);
  }
  return sum;
}

function jsonLines(text: string): Array<{ ts: string; level: string; msg: string; fields: Record<string, unknown> }> {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => {
      let o: { ts: string; level: string; msg: string; fields: Record<string, unknown> };
      try {
        o = JSON.parse(l);
      } catch {
        throw new Error(`not a JSON log line: ${l.slice(0, 300)}`);
      }
      expect(Object.keys(o).sort(), l).toEqual(['fields', 'level', 'msg', 'ts']);
      return o;
    });
}

function testPlan(tag: string, extra = ''): Plan {
  const base = h.plan(`failover:\n  requireApproval: false\n${extra}`);
  return { ...base, name: `${base.name}-${tag}`, secrets: { include: [{ prefix: `${h.names}${tag}/` }], exclude: [] } };
}

beforeAll(async () => {
  if (onAws) return;
  requireBuilt();
  h = await startHarness('metrics');
  prefix = `${h.prefix}-m`; // only the spawned worker polls these queues
  port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'secrets-dr-metrics-'));
  const toml = join(dir, 'temporal.toml');
  writeFileSync(toml, `[profile.default]\naddress = "127.0.0.1:1"\n\n[profile.lab]\naddress = "${inject('temporalAddress')}"\nnamespace = "default"\n`);
  worker = await spawnWorker({
    temporalAddress: inject('temporalAddress'),
    labUrl: inject('labUrl'),
    prefix,
    regions: [h.primaryRegion, h.drRegion],
    logs,
    args: ['--metrics-port', String(port)],
    env: {
      TEMPORAL_ADDRESS: undefined,
      TEMPORAL_CONFIG_FILE: toml,
      TEMPORAL_PROFILE: 'lab',
      SECRETS_DR_LOG_FORMAT: 'json',
      SECRETS_DR_LOG_LEVEL: 'INFO',
      HOME: dir,
    },
  });
});

afterAll(async () => {
  if (onAws) return;
  for (const region of [h?.primaryRegion, h?.drRegion]) if (region) await h?.lab?.fault('clear', { region });
  if (worker && worker.child.exitCode === null) {
    worker.child.kill('SIGTERM');
    await new Promise((r) => worker.child.once('exit', r));
  }
  await h?.close();
});

describe.skipIf(onAws)(`worker metrics and JSON logs on the dev server + lab (${LAB_ONLY})`, () => {
  it('the worker reached Temporal through the profile and serves the SDK metrics before any work', async () => {
    const start = jsonLines(logs.join('')).find((l) => l.msg.startsWith('secrets-dr worker:'));
    expect(start?.fields).toMatchObject({ address: inject('temporalAddress'), metricsPort: port });
    expect(start?.msg).toContain('(profile lab of ');
    const text = await scrape();
    expect(text).toMatch(/^temporal_\w+/m);
    expect(text).toMatch(/^# HELP temporal_/m);
  });

  it('a planned failover under a write throttle: promoted, fenced, throttles, governor waits and the failover counter move per Region', async () => {
    const plan = testPlan('planned');
    const names = Array.from({ length: 6 }, (_, i) => `${h.names}planned/s${i}`);
    await h.lab!.seed(
      h.primaryRegion,
      names.map((name) => {
        const v = `metrics-value-${randomBytes(12).toString('hex')}`;
        values.push(v);
        return { name, value: v, replicaRegions: [h.drRegion] };
      }),
    );
    await eventually('replicas of the seeded fleet', async () => ((await h.lab!.status()).pendingReplications === 0 ? true : undefined));
    const before = await scrape();
    expect(sample(before, 'secrets_dr_secrets_promoted_total', { region: h.drRegion })).toBeUndefined();
    await h.lab!.fault('throttle', { region: h.drRegion, group: 'write', tps: 2 });
    let report: FailoverReport;
    try {
      const handle = await h.client.workflow.start<typeof failoverWorkflow>('failoverWorkflow', {
        taskQueue: workflowTaskQueue(prefix),
        workflowId: failoverWorkflowId(plan.name),
        args: [{ plan, to: h.drRegion, mode: 'planned', skipApproval: true, dryRun: false, taskQueuePrefix: prefix }],
        workflowExecutionTimeout: '5m',
      });
      report = await handle.result();
    } finally {
      await h.lab!.fault('clear', { region: h.drRegion });
    }
    expect(report.outcome, JSON.stringify(report.problems)).toBe('done');
    expect(report.counts).toMatchObject({ promoted: 6, failed: 0 });

    const text = await eventually('the failover counter', async () => {
      const t = await scrape();
      return sample(t, 'secrets_dr_failovers_total', { plan: plan.name }) ? t : undefined;
    });
    expect(sample(text, 'secrets_dr_secrets_promoted_total', { region: h.drRegion })).toBe(6);
    expect(sample(text, 'secrets_dr_secrets_promoted_total', { region: h.primaryRegion })).toBeUndefined();
    expect(sample(text, 'secrets_dr_secrets_fenced_total', { region: h.primaryRegion })).toBe(6);
    expect(sample(text, 'secrets_dr_secrets_failed_total')).toBeUndefined();
    expect(sample(text, 'secrets_dr_write_throttles_total', { region: h.drRegion, bucket: 'write' })).toBeGreaterThan(0);
    expect(sample(text, 'secrets_dr_governor_wait_seconds_count', { region: h.drRegion, bucket: 'write' })).toBeGreaterThanOrEqual(6);
    expect(sample(text, 'secrets_dr_governor_wait_seconds_sum', { region: h.drRegion, bucket: 'write' })).toBeGreaterThan(0);
    expect(sample(text, 'secrets_dr_failovers_total', { plan: plan.name, from: h.primaryRegion, to: h.drRegion, outcome: 'done' })).toBe(1);
    expect(sample(text, 'secrets_dr_failover_rto_seconds', { plan: plan.name })).toBeGreaterThan(0);
    // The SDK's own metrics of the same process: the activities just run.
    expect(sample(text, 'temporal_activity_execution_latency_count')).toBeGreaterThan(0);
    for (const n of names) expect(text).not.toContain(n);
    for (const v of values) expect(text).not.toContain(v);
  });

  it("a drill sets the last drill's RTO and RPO and the replication lag into the DR Region", async () => {
    const plan = testPlan('drill');
    const report = await (await startDrill({ client: h.client, prefix }, plan, 'test')).result();
    expect(report.outcome, JSON.stringify(report.failure)).toBe('passed');
    const text = await eventually('the drill metrics', async () => {
      const t = await scrape();
      return sample(t, 'secrets_dr_drills_total', { plan: plan.name }) ? t : undefined;
    });
    expect(sample(text, 'secrets_dr_drills_total', { plan: plan.name, outcome: 'passed' })).toBe(1);
    expect(sample(text, 'secrets_dr_drill_rto_seconds', { plan: plan.name })).toBeCloseTo(report.rtoMs! / 1000, 2);
    expect(sample(text, 'secrets_dr_drill_rpo_seconds', { plan: plan.name })).toBeCloseTo(report.rpoMs! / 1000, 2);
    expect(sample(text, 'secrets_dr_replication_lag_seconds', { region: h.drRegion })).toBeGreaterThan(0);
  });

  it("a monitor cycle sets each Region's reachability and latency; the primary's outage shows as health state 2", async () => {
    const plan = testPlan('monitor', 'health: { interval: 500ms, unhealthyAfter: 1 }\n');
    const monitor = await h.client.workflow.start<typeof monitorWorkflow>('monitorWorkflow', {
      taskQueue: workflowTaskQueue(prefix),
      workflowId: monitorWorkflowId(plan.name),
      args: [{ plan, taskQueuePrefix: prefix }],
      workflowExecutionTimeout: '5m',
    });
    try {
      const healthy = await eventually('both Regions probed', async () => {
        const t = await scrape();
        return sample(t, 'secrets_dr_region_reachable', { region: h.primaryRegion }) === 1 &&
          sample(t, 'secrets_dr_region_reachable', { region: h.drRegion }) === 1
          ? t
          : undefined;
      });
      expect(sample(healthy, 'secrets_dr_region_probe_latency_seconds', { region: h.drRegion })).toBeGreaterThanOrEqual(0);
      await h.lab!.fault('outage', { region: h.primaryRegion, mode: 'refuse' });
      const down = await eventually(
        'the primary unhealthy in the metrics',
        async () => {
          const t = await scrape();
          return sample(t, 'secrets_dr_region_health_state', { plan: plan.name, region: h.primaryRegion }) === 2 ? t : undefined;
        },
        60_000,
      );
      expect(sample(down, 'secrets_dr_region_health_changed_timestamp_seconds', { plan: plan.name, region: h.primaryRegion })).toBeGreaterThan(
        Date.now() / 1000 - 120,
      );
      expect(sample(down, 'secrets_dr_region_reachable', { region: h.primaryRegion })).toBe(0);
      expect(sample(down, 'secrets_dr_region_reachable', { region: h.drRegion })).toBe(1);
    } finally {
      await h.lab!.fault('clear', { region: h.primaryRegion });
      await monitor.signal(monitorStopSignal, { by: 'test' }).catch(() => undefined);
      await monitor.terminate('test over').catch(() => undefined);
    }
  });

  it('every line the worker wrote is one JSON log object, with no secret value in it', async () => {
    worker.child.kill('SIGTERM');
    await new Promise((r) => (worker.child.exitCode === null ? worker.child.once('exit', r) : r(undefined)));
    const text = logs.join('');
    const lines = jsonLines(text);
    expect(lines.length).toBeGreaterThan(2);
    expect(lines.some((l) => l.msg.includes('shutting down'))).toBe(true);
    expect(new Set(lines.map((l) => l.level))).toContain('info');
    for (const v of values) expect(text).not.toContain(v);
  });

  it('a SIGTERM lets an activity stuck on a hung Region run for half of SECRETS_DR_SHUTDOWN_TIMEOUT_MS, then cancels it: its AWS call aborts, its attempt is reported at once, and the process exits 0 before the limit', async () => {
    const mine: string[] = [];
    const prefix2 = `${h.prefix}-m2`;
    const plan = testPlan('shutdown', 'health: { interval: 500ms, unhealthyAfter: 1 }\n');
    const stuck = await spawnWorker({
      temporalAddress: inject('temporalAddress'),
      labUrl: inject('labUrl'),
      prefix: prefix2,
      regions: [h.primaryRegion, h.drRegion],
      logs: mine,
      // An AWS timeout far beyond the shutdown limit: only the activity's cancellation (at 4 s) ends its call in time.
      env: { SECRETS_DR_LOG_FORMAT: 'json', SECRETS_DR_SHUTDOWN_TIMEOUT_MS: '8000', SECRETS_DR_AWS_TIMEOUT_MS: '120000' },
    });
    let monitor: Awaited<ReturnType<typeof h.client.workflow.start<typeof monitorWorkflow>>> | undefined;
    try {
      await h.lab!.fault('outage', { region: h.primaryRegion, mode: 'hang' });
      await h.lab!.resetCounters([h.primaryRegion]);
      monitor = await h.client.workflow.start<typeof monitorWorkflow>('monitorWorkflow', {
        taskQueue: workflowTaskQueue(prefix2),
        workflowId: `${monitorWorkflowId(plan.name)}-shutdown`,
        args: [{ plan, taskQueuePrefix: prefix2 }],
        workflowExecutionTimeout: '5m',
      });
      // The probe's ListSecrets reached the hung primary (the lab counts a call on arrival): the activity is inside
      // the worker now, not only started on the server. (This file's first worker has stopped: the call is the probe's.)
      await eventually('a probe hanging in the primary', async () => {
        const counters = await h.lab!.counters([h.primaryRegion]);
        return (counters[h.primaryRegion]?.ListSecrets?.calls ?? 0) > 0 || undefined;
      });
      const exited = new Promise<number | null>((r) => (stuck.child.exitCode === null ? stuck.child.once('exit', (code) => r(code)) : r(stuck.child.exitCode)));
      const sent = performance.now();
      stuck.child.kill('SIGTERM');
      const code = await Promise.race([exited, new Promise<'still running'>((r) => setTimeout(() => r('still running'), 30_000))]);
      if (code === 'still running') throw new Error(`the worker did not exit 30 s after SIGTERM:\n${mine.join('').slice(-3000)}`);
      const tookMs = performance.now() - sent;
      const lines = jsonLines(mine.join(''));
      expect(code, `the worker's last lines: ${mine.join('').slice(-1500)}`).toBe(0);
      expect(tookMs, 'the probe ran for its grace time (half the limit) first').toBeGreaterThanOrEqual(3_900);
      expect(tookMs, 'ended by the cancellation, not by the 8-s limit').toBeLessThan(7_900);
      const start = lines.find((l) => l.msg.includes('shutting down on SIGTERM'));
      // (The same cycle's probe of the DR Region may still be running at the signal: it answers, the primary's hangs.)
      expect(start?.msg).toMatch(new RegExp(`activit(y|ies) running: .*(probeRegion|surveyRegion) in ${h.primaryRegion} for `));
      expect(start?.msg).toContain('cancelled after 4000 ms');
      expect(lines.filter((l) => l.level === 'error')).toEqual([]);
      // The attempt was reported by the worker (failed or cancelled), not left to its 30-s heartbeat timeout.
      const { events } = await monitor.fetchHistory();
      const probeEnds = (events ?? []).filter(
        (e) => e.activityTaskFailedEventAttributes || e.activityTaskCanceledEventAttributes || e.activityTaskTimedOutEventAttributes,
      );
      expect(probeEnds.length).toBeGreaterThan(0);
      expect(probeEnds.filter((e) => e.activityTaskTimedOutEventAttributes)).toEqual([]);
    } finally {
      await stuck.kill();
      await h.lab!.fault('clear', { region: h.primaryRegion });
      await monitor?.terminate('test over').catch(() => undefined);
    }
  });

  it('every line the receiver writes to stderr is one JSON log object (a request served, one refused)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'secrets-dr-receiver-'));
    const readyFile = join(dir, 'ready');
    const rport = await freePort();
    const child = spawn(process.execPath, [CLI_RUN, 'receiver', '--port', String(rport), '--plans-dir', dir, '--ready-file', readyFile], {
      env: {
        ...process.env,
        ...LAB_CREDENTIALS,
        TEMPORAL_ADDRESS: inject('temporalAddress'),
        SECRETS_DR_LOG_FORMAT: 'json',
        SECRETS_DR_RECEIVER_API_KEY: 'metrics-test-receiver-key-0123',
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    let out = '';
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    try {
      await eventually('the receiver to listen', async () => (out.includes('receiver listening on') ? true : undefined), 30_000);
      expect((await fetch(`http://127.0.0.1:${rport}/health`)).status).toBe(200);
      expect((await fetch(`http://127.0.0.1:${rport}/events/nope`, { method: 'POST', body: '{}' })).status).toBe(401);
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => (child.exitCode === null ? child.once('exit', r) : r(undefined)));
    }
    const lines = jsonLines(err);
    expect(lines.map((l) => l.fields.status)).toEqual([200, 401]);
    expect(lines[1]).toMatchObject({ level: 'info', fields: { method: 'POST', path: '/events/nope' } });
  });
});

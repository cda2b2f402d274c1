/**
 * Property-based fuzzing (fast-check) of every input an operator or a network can hand us: plan
 * files, CLI arguments and receiver payloads. A clear error, exit 2 or a 4xx; never a crash, a
 * stack trace, a 5xx, or a workflow started. Seeded: FC_SEED reproduces a run (printed on failure).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '@temporalio/client';
import { parsePlanText } from '../../cli/plan-file.js';
import { startReceiver, type RunningReceiver } from '../../cli/receiver-server.js';
import { RECEIVER_API_KEY_HEADER } from '../../domain/inbound-events.js';
import { CLI_RUN, requireBuilt } from '../support/chaos.js';

const seed = process.env.FC_SEED ? Number(process.env.FC_SEED) : undefined;
const canonical = readFileSync(new URL('../fixtures/canonical-plan.yaml', import.meta.url), 'utf8');
const canonicalDoc = parsePlanText(canonical).plan!;

describe('plan files', () => {
  const check = (text: string) => {
    let out: ReturnType<typeof parsePlanText>;
    expect(() => (out = parsePlanText(text)), text).not.toThrow();
    if (!out!.plan) {
      expect(out!.problems.length, text).toBeGreaterThan(0);
      for (const p of out!.problems) {
        expect(typeof p.path === 'string' && p.path.length > 0, `problem without a path: ${JSON.stringify(p)} for ${JSON.stringify(text)}`).toBe(true);
        expect(p.message.length).toBeGreaterThan(0);
      }
    }
  };

  it('random text never throws, and every problem has a path', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 400 }), check), { numRuns: 500, seed });
  });

  it('random YAML documents never throw, and every problem has a path', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), (doc) => check(stringify(doc))),
      { numRuns: 500, seed },
    );
  });

  it('the canonical plan with one field replaced by anything: a plan or problems with paths', () => {
    const keys = ['name', 'primaryRegion', 'drRegions', 'secrets', 'conflicts', 'failover', 'rotation', 'health', 'drills', 'events'] as const;
    fc.assert(
      fc.property(fc.constantFrom(...keys), fc.jsonValue({ maxDepth: 3 }), (key, value) => {
        check(stringify({ ...(canonicalDoc as unknown as Record<string, unknown>), [key]: value }));
      }),
      { numRuns: 300, seed },
    );
  });
});

describe('receiver payloads', () => {
  let receiver: RunningReceiver;
  /** Every signal-with-start the receiver asked for (a fake client: nothing reaches Temporal). */
  const started: unknown[] = [];
  const apiKey = 'fuzz-key';
  beforeAll(async () => {
    const client = {
      workflow: { signalWithStart: async (_type: string, opts: unknown) => (started.push(opts), { workflowId: 'fuzz-recover', signaledRunId: 'run' }) },
    } as unknown as Client;
    const plan = { ...canonicalDoc, name: 'fuzz', health: { ...canonicalDoc.health, alarms: ['fuzz-alarm'] } };
    receiver = await startReceiver({ client, apiKey, taskQueuePrefix: 'fuzz', plans: [plan], log: () => undefined });
  });
  afterAll(async () => receiver?.close());

  const post = async (body: string, path = '/events/fuzz') => {
    const res = await fetch(`${receiver.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', [RECEIVER_API_KEY_HEADER]: apiKey },
      body,
    });
    return { status: res.status, text: await res.text() };
  };
  const alarm = {
    version: '0',
    id: 'e1',
    'detail-type': 'CloudWatch Alarm State Change',
    source: 'aws.cloudwatch',
    account: '123456789012',
    time: '2026-01-01T00:00:00Z',
    region: 'ap-northeast-1',
    resources: [],
    detail: { alarmName: 'fuzz-alarm', state: { value: 'ALARM' } },
  };

  it('random JSON bodies: a 4xx (or 200 "ignored"), never a 5xx, and nothing started', async () => {
    started.length = 0;
    await fc.assert(
      fc.asyncProperty(fc.jsonValue({ maxDepth: 4 }), async (doc) => {
        const r = await post(JSON.stringify(doc));
        expect([200, 400], r.text).toContain(r.status);
      }),
      { numRuns: 300, seed },
    );
    expect(started).toEqual([]);
  });

  it("an alarm event with any one field replaced: 200/400, or 202 only while it is still our plan's ALARM; never a 5xx", async () => {
    const keys = Object.keys(alarm) as Array<keyof typeof alarm>;
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...keys), fc.jsonValue({ maxDepth: 3 }), async (key, value) => {
        started.length = 0;
        const r = await post(JSON.stringify({ ...alarm, [key]: value }));
        expect([200, 202, 400], r.text).toContain(r.status);
        if (r.status === 202) {
          // Only fields the decision does not depend on may change and still trigger recover.
          expect(['source', 'detail-type', 'detail'], `${key} = ${JSON.stringify(value)} still started recover`).not.toContain(key);
          expect(started).toHaveLength(1);
        } else {
          expect(started).toEqual([]);
        }
      }),
      { numRuns: 200, seed },
    );
  });

  it('random bytes, random paths and oversized bodies: 4xx', async () => {
    started.length = 0;
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: 'binary', maxLength: 200 }), fc.webSegment(), async (body, seg) => {
        const r = await post(body, `/events/${encodeURIComponent(seg)}x`);
        expect(r.status).toBeGreaterThanOrEqual(400);
        expect(r.status).toBeLessThan(500);
      }),
      { numRuns: 200, seed },
    );
    expect((await post('x'.repeat(2_000_000))).status).toBe(413);
    expect(started).toEqual([]);
  });
});

describe('CLI arguments', () => {
  beforeAll(() => requireBuilt());
  const cwd = mkdtempSync(join(tmpdir(), 'secrets-dr-fuzz-'));
  // Nothing reachable: any command that gets past its arguments fails fast with a clear error.
  const env = {
    PATH: process.env.PATH,
    HOME: cwd,
    SECRETS_DR_HOME: join(cwd, 'home'),
    TEMPORAL_ADDRESS: '127.0.0.1:9',
    AWS_ENDPOINT_URL_SECRETS_MANAGER: 'http://127.0.0.1:9',
    AWS_ENDPOINT_URL_EVENTBRIDGE: 'http://127.0.0.1:9',
    AWS_ACCESS_KEY_ID: 'x',
    AWS_SECRET_ACCESS_KEY: 'x',
    AWS_REGION: 'ap-northeast-1',
    AWS_MAX_ATTEMPTS: '1',
  };
  const run = (argv: string[]) =>
    new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
      const child = spawn(process.execPath, [CLI_RUN, ...argv], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      child.once('exit', (code) => (clearTimeout(timer), resolve({ code, out, err })));
    });
  // Commands that start long-running processes (lab up, demo, worker, receiver, watch) are left out: they
  // would run, not fail.
  const words = [
    'plan',
    'validate',
    'show',
    'schema',
    'status',
    'setup',
    'failover',
    'failback',
    'approve',
    'reject',
    'backups',
    'list',
    'restore',
    'drill',
    'run',
    'schedule',
    'monitor',
    'start',
    'stop',
    'events',
    'install',
    'lab',
    'fault',
    'env',
    'help',
  ];
  const flags = [
    '--to',
    '--mode',
    '--reason',
    '--yes',
    '--dry-run',
    '--wait',
    '--json',
    '-f',
    '--plan',
    '--region',
    '--cron',
    '--reverse',
    '--regions',
    '--port',
    '--ms',
    '--count',
    '--op',
    '-h',
    '--help',
    '--',
    '-',
  ];
  const token = fc.oneof(
    fc.constantFrom(...words),
    fc.constantFrom(...flags),
    fc.string({ maxLength: 12 }),
    fc.constantFrom('ap-northeast-3', 'planned', 'unplanned', '0', '-1', '1e9', 'NaN', '{}', '../..', '\u0000'),
  );

  it('random argv: exit 0–4, a message, never a stack trace', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(token, { minLength: 0, maxLength: 5 }), async (argv) => {
        const safe = argv.map((a) => a.replace(/\u0000/g, ''));
        if (safe.includes('up') || safe.includes('demo') || safe.includes('worker') || safe.includes('receiver') || safe.includes('watch')) return;
        const r = await run(safe);
        const all = `${r.out}${r.err}`;
        expect(r.code, `${JSON.stringify(safe)}: ${all}`).not.toBeNull();
        expect(r.code!, `${JSON.stringify(safe)}: ${all}`).toBeLessThanOrEqual(4);
        expect(all, `${JSON.stringify(safe)}: stack trace`).not.toMatch(/\n\s+at .+:\d+:\d+\)?\n/);
        if (r.code !== 0) expect(all.trim().length, `${JSON.stringify(safe)}: no message on exit ${r.code}`).toBeGreaterThan(0);
      }),
      { numRuns: Number(process.env.FUZZ_CLI_RUNS ?? 40), seed },
    );
  }, 600_000);
});

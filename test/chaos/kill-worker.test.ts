/**
 * Chaos: SIGKILL the worker at a random point (seeded) of setup, of failover and of failback, one
 * fleet per seed carried through all three; a new worker finishes each. Afterwards every secret is
 * in the intended state, each promotion was sent exactly once (the lab's counters of this file's
 * Regions), and no value was lost: the test reads every value through the SDK before and after
 * (the test may read values; workflows never do).
 *
 * Also: a SIGTERM in the middle of a failover (a 3-s shutdown limit: the running batch is cancelled
 * after 1.5 s and reported as WorkerShutdown, and the standby worker retries it); and the Temporal
 * dev server itself is SIGKILLed in the middle of a failover and started again
 * on the same database file and port: the failover resumes and finishes.
 *
 * Seeds: CHAOS_SEEDS="1,2,3,4,5" (the full set); `npm test` runs one.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { DescribeSecretCommand, GetSecretValueCommand, PutSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { failbackWorkflowId, failoverWorkflowId, regionTaskQueue, setupWorkflowId, workflowTaskQueue, writeLeaseWorkflowId } from '../../domain/ids.js';
import { pollerCount } from '../../cli/temporal.js';
import type { Plan } from '../../domain/plan.js';
import type { SetupReport } from '../../domain/replication.js';
import type { FailoverReport } from '../../domain/failover.js';
import type { FailbackInput, FailbackReport } from '../../domain/failback.js';
import { isAlive, startTemporalDevServer, type TemporalServer } from '../../lab/stack.js';
import { eventually, LAB_ONLY, onAws, startHarness, type Harness } from '../support/integration.js';
import type { replicateWorkflow } from '../../workflows/replicate.workflow.js';
import { chaosSeeds, prng, requireBuilt, spawnWorker, type SpawnedWorker } from '../support/chaos.js';
import type { failoverWorkflow } from '../../workflows/failover.workflow.js';
import type { failbackWorkflow } from '../../workflows/failback.workflow.js';
import type { writeLeaseWorkflow } from '../../workflows/write-lease.workflow.js';
import { dataConverter } from '../../worker/payload-codec.js';

const N = 24;
const SEEDS = chaosSeeds([1]);
let h: Harness;
const logs: string[] = [];

beforeAll(async () => {
  h = await startHarness('chaos-kill');
});
afterAll(async () => {
  for (const region of [h?.primaryRegion, h?.drRegion]) if (region) await h?.lab?.fault('clear', { region });
  await h?.close();
});

const get = async (region: string, name: string) => (await h.sm(region).send(new GetSecretValueCommand({ SecretId: name }))).SecretString!;
const primaryOf = async (region: string, name: string) => (await h.sm(region).send(new DescribeSecretCommand({ SecretId: name }))).PrimaryRegion;
const count = async (region: string, op: string) => (await h.lab!.counters([region]))[region]?.[op] ?? { calls: 0, failed: 0, throttled: 0 };

/**
 * Starts `start()` on a spawned worker, SIGKILLs that worker at a random point (before the first
 * write, after a random delay; or once `region`'s `op` counter reached a random k < N), starts a
 * new worker, and returns the result.
 */
async function withKill<T>(
  rand: ReturnType<typeof prng>,
  what: string,
  op: { region: string; name: string },
  start: (prefix: string) => Promise<{ result(): Promise<T> }>,
): Promise<{ result: T; killedAt: string }> {
  const prefix = `t-chaos-${randomBytes(4).toString('hex')}`;
  const spawnOne = () =>
    spawnWorker({ temporalAddress: inject('temporalAddress'), labUrl: inject('labUrl'), prefix, regions: [h.primaryRegion, h.drRegion], logs });
  let worker: SpawnedWorker = await spawnOne();
  try {
    await h.lab!.resetCounters([h.primaryRegion, h.drRegion]);
    const handle = await start(prefix);
    const k = rand.int(0, N - 2);
    let killedAt: string;
    if (k === 0) {
      const ms = rand.int(0, 1_500);
      await new Promise((r) => setTimeout(r, ms));
      killedAt = `${what}: ${ms} ms after the start`;
    } else {
      await eventually(`${what}: ${k} × ${op.name}`, async () => ((await count(op.region, op.name)).calls >= k ? true : undefined), 60_000, 50);
      killedAt = `${what}: after ${k} × ${op.name}`;
    }
    await worker.kill();
    worker = await spawnOne();
    const result = await handle.result();
    return { result, killedAt };
  } finally {
    await worker.kill();
  }
}

describe.skipIf(onAws)(`SIGKILL of the worker during setup, failover and failback (${LAB_ONLY})`, () => {
  beforeAll(() => requireBuilt());

  it.each(SEEDS)(
    'seed %i: setup → failover → failback, each killed once; every secret ends right, promotions exactly once, no value lost',
    async (seed) => {
      const rand = prng(seed);
      const prefix = `${h.names}seed${seed}/`;
      const names = Array.from({ length: N }, (_, i) => `${prefix}s${String(i).padStart(2, '0')}`);
      const expected = new Map(names.map((n) => [n, `chaos-${seed}-${randomBytes(12).toString('hex')}`]));
      await h.lab!.seed(
        h.primaryRegion,
        names.map((name) => ({ name, value: expected.get(name)! })),
      );
      // 0.1 × 50 TPS = 5 writes/s: each stage lasts ~5 s, so there is a middle to kill in.
      const base = h.plan('failover:\n  requireApproval: false\n  writeQuotaShare: 0.1\n');
      const plan: Plan = { ...base, name: `${base.name}-s${seed}`, secrets: { include: [{ prefix }], exclude: [] } };

      // 1. Setup.
      const setup = await withKill<SetupReport>(rand, 'setup', { region: h.primaryRegion, name: 'ReplicateSecretToRegions' }, (p) =>
        h.client.workflow.start<typeof replicateWorkflow>('replicateWorkflow', {
          taskQueue: workflowTaskQueue(p),
          workflowId: setupWorkflowId(plan.name),
          args: [{ plan, taskQueuePrefix: p }],
          workflowExecutionTimeout: '4m',
        }),
      );
      expect(setup.result.counts, `${setup.killedAt}: ${JSON.stringify(setup.result.counts)}`).toEqual({ InSync: N });
      await eventually('replicas InSync', async () => ((await h.lab!.status()).pendingReplications === 0 ? true : undefined));
      for (const name of names) {
        expect(await primaryOf(h.drRegion, name), `${setup.killedAt}: ${name} replica`).toBe(h.primaryRegion);
        expect(await get(h.drRegion, name), `${setup.killedAt}: ${name} value in ${h.drRegion}`).toBe(expected.get(name));
      }

      // 2. Failover (planned: the fence is applied first, the primary stays reachable).
      const failover = await withKill<FailoverReport>(rand, 'failover', { region: h.drRegion, name: 'StopReplicationToReplica' }, (p) =>
        h.client.workflow.start<typeof failoverWorkflow>('failoverWorkflow', {
          taskQueue: workflowTaskQueue(p),
          workflowId: failoverWorkflowId(plan.name),
          args: [{ plan, to: h.drRegion, mode: 'planned', skipApproval: true, dryRun: false, taskQueuePrefix: p }],
          workflowExecutionTimeout: '4m',
        }),
      );
      expect(failover.result.outcome, `${failover.killedAt}: ${JSON.stringify(failover.result.attention)}`).toBe('done');
      expect(failover.result.counts.promoted + failover.result.counts.alreadyStandalone).toBe(N);
      expect(await count(h.drRegion, 'StopReplicationToReplica'), `${failover.killedAt}: each promotion exactly once`).toMatchObject({ calls: N, failed: 0 });
      for (const name of names) {
        expect(await primaryOf(h.drRegion, name), `${failover.killedAt}: ${name} standalone`).toBeUndefined();
        expect(await get(h.drRegion, name), `${failover.killedAt}: ${name} value`).toBe(expected.get(name));
      }

      // During the "outage": a third of the secrets change in the DR Region; failback must keep them.
      for (const name of names.filter((_, i) => i % 3 === 0)) {
        const v = `chaos-${seed}-dr-${randomBytes(12).toString('hex')}`;
        await h.sm(h.drRegion).send(new PutSecretValueCommand({ SecretId: name, SecretString: v }));
        expected.set(name, v);
      }

      // 3. Failback.
      const failback = await withKill<FailbackReport>(rand, 'failback', { region: h.primaryRegion, name: 'ReplicateSecretToRegions' }, (p) =>
        h.client.workflow.start<typeof failbackWorkflow>('failbackWorkflow', {
          taskQueue: workflowTaskQueue(p),
          workflowId: failbackWorkflowId(plan.name),
          args: [{ plan, taskQueuePrefix: p, skipApproval: true } satisfies FailbackInput],
          workflowExecutionTimeout: '4m',
        }),
      );
      expect(failback.result.outcome, `${failback.killedAt}: ${JSON.stringify(failback.result.counts)}`).toBe('done');
      await eventually('replicas InSync', async () => ((await h.lab!.status()).pendingReplications === 0 ? true : undefined));
      for (const name of names) {
        expect(await primaryOf(h.drRegion, name), `${failback.killedAt}: ${name} replica of ${h.primaryRegion} again`).toBe(h.primaryRegion);
        expect(await get(h.primaryRegion, name), `${failback.killedAt}: ${name} value in ${h.primaryRegion}`).toBe(expected.get(name));
        expect(await get(h.drRegion, name), `${failback.killedAt}: ${name} value in ${h.drRegion}`).toBe(expected.get(name));
      }
      console.log(`[chaos] seed ${seed}: ${setup.killedAt}; ${failover.killedAt}; ${failback.killedAt}`);
    },
    240_000,
  );

  it('a SIGTERM mid-failover: the promotion batch still running after the grace time is cancelled, reported at once (WorkerShutdown, not a heartbeat timeout) and retried on the standby worker; each promotion exactly once', async () => {
    const prefix = `t-chaos-term-${randomBytes(4).toString('hex')}`;
    // 40 promotions at 5/s: 8 s of them, so the batch running at the signal outlives the 1.5-s grace time.
    const M = 40;
    // A 3-s shutdown limit: the running activities get 1.5 s, then they are cancelled.
    const spawnOne = (mine: string[]) =>
      spawnWorker({
        temporalAddress: inject('temporalAddress'),
        labUrl: inject('labUrl'),
        prefix,
        regions: [h.primaryRegion, h.drRegion],
        logs: mine,
        env: { SECRETS_DR_SHUTDOWN_TIMEOUT_MS: '3000', SECRETS_DR_LOG_FORMAT: 'json' },
      });
    const first: string[] = [];
    const a = await spawnOne(first);
    let b: SpawnedWorker | undefined;
    try {
      // The standby, started once the first worker holds both leases (it takes them when the first releases them).
      const serving = async () => {
        for (const region of [h.primaryRegion, h.drRegion])
          if ((await pollerCount(h.client, regionTaskQueue(region, prefix), 'activity')) === 0) return undefined;
        return true;
      };
      await eventually('the first worker to hold both leases (its Region queues have pollers)', serving, 30_000, 100);
      b = await spawnOne([]);
      const names = Array.from({ length: M }, (_, i) => `${h.names}term/s${String(i).padStart(2, '0')}`);
      const values = new Map(names.map((n) => [n, `chaos-term-${randomBytes(12).toString('hex')}`]));
      await h.lab!.seed(
        h.primaryRegion,
        names.map((name) => ({ name, value: values.get(name)!, replicaRegions: [h.drRegion] })),
      );
      await eventually('replicas of the seeded fleet', async () => ((await h.lab!.status()).pendingReplications === 0 ? true : undefined));
      // 0.1 × 50 TPS = 5 promotions/s: ~5 s of promotions, so a batch is mid-way at the signal and outlives the grace.
      const base = h.plan('failover:\n  requireApproval: false\n  writeQuotaShare: 0.1\n');
      const plan: Plan = { ...base, name: `${base.name}-term`, secrets: { include: [{ prefix: `${h.names}term/` }], exclude: [] } };
      await h.lab!.resetCounters([h.primaryRegion, h.drRegion]);
      const handle = await h.client.workflow.start<typeof failoverWorkflow>('failoverWorkflow', {
        taskQueue: workflowTaskQueue(prefix),
        workflowId: failoverWorkflowId(plan.name),
        args: [{ plan, to: h.drRegion, mode: 'planned', skipApproval: true, dryRun: false, taskQueuePrefix: prefix }],
        workflowExecutionTimeout: '4m',
      });
      await eventually('promotion under way', async () => ((await count(h.drRegion, 'StopReplicationToReplica')).calls >= 4 ? true : undefined), 60_000, 50);
      let exitedAt = Date.now();
      const exited = new Promise<number | null>((r) =>
        a.child.exitCode === null ? a.child.once('exit', (code) => ((exitedAt = Date.now()), r(code))) : r(a.child.exitCode),
      );
      const sent = performance.now();
      const atSignal = (await count(h.drRegion, 'StopReplicationToReplica')).calls;
      a.child.kill('SIGTERM');
      const code = await exited;
      const exitMs = performance.now() - sent;
      const atExit = (await count(h.drRegion, 'StopReplicationToReplica')).calls;
      // The DR Region's lease was released before the first worker exited (its lease workflow ended), so the standby
      // took the Region at once: the release's workflow task was not left to its 10-s timeout on a stopped worker.
      const released = await eventually('the released lease run, in visibility', async () => {
        const closed: Array<{ runId: string; at: number }> = [];
        for await (const w of h.client.workflow.list({ query: `WorkflowId = "${writeLeaseWorkflowId(h.drRegion, prefix)}" AND ExecutionStatus = "Completed"` }))
          if (w.closeTime) closed.push({ runId: w.runId, at: w.closeTime.getTime() });
        return closed.length > 0 ? closed : undefined;
      });
      expect(released.length, "the first worker's lease of the DR Region ended once").toBe(1);
      const lease = await h.client.workflow.getHandle<typeof writeLeaseWorkflow>(writeLeaseWorkflowId(h.drRegion, prefix), released[0]!.runId).result();
      expect(lease.ended, 'released by the first worker, not expired').toBe('released');
      expect(lease.holder).toContain(`:${a.child.pid}:`);
      expect(released[0]!.at - exitedAt, 'the lease ended before the first worker exited (ms after its exit)').toBeLessThanOrEqual(100);
      const report = await handle.result();
      const doneMs = performance.now() - sent;

      const lines = first
        .join('')
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as { level: string; msg: string });
      expect(code, `the first worker's last lines: ${first.join('').slice(-1500)}`).toBe(0);
      expect(exitMs, 'the cancelled batch ended at its grace time, within the limit').toBeLessThan(3_000);
      expect(atExit, 'the first worker left promotions undone: its batch was cancelled, not finished').toBeLessThan(M);
      expect(lines.find((l) => l.msg.includes('shutting down on SIGTERM'))?.msg).toMatch(/promoteBatch in /);
      expect(lines.filter((l) => l.level === 'error')).toEqual([]);
      expect(report.outcome, JSON.stringify(report.attention)).toBe('done');
      expect(report.counts.promoted + report.counts.alreadyStandalone).toBe(M);
      expect(await count(h.drRegion, 'StopReplicationToReplica'), `signal after ${atSignal} promotions`).toMatchObject({ calls: M, failed: 0 });
      // The cancelled attempt was reported by its worker (retried as soon as the standby holds the lease), not left to
      // its 30-s heartbeat timeout: the retry's lastFailure says so.
      const retried: Array<{ type?: string | null; timeout?: unknown }> = [];
      for await (const w of h.client.workflow.list({ query: `WorkflowId STARTS_WITH "${failoverWorkflowId(plan.name)}"` }))
        for (const e of (await h.client.workflow.getHandle(w.workflowId, w.runId).fetchHistory()).events ?? []) {
          const started = e.activityTaskStartedEventAttributes;
          if (started && (started.attempt ?? 1) > 1)
            retried.push({ type: started.lastFailure?.applicationFailureInfo?.type, timeout: started.lastFailure?.timeoutFailureInfo ?? undefined });
        }
      expect(retried.length, 'an attempt was cut short and retried').toBeGreaterThan(0);
      expect(retried).toEqual(retried.map(() => ({ type: 'WorkerShutdown', timeout: undefined })));
      for (const name of names) {
        expect(await primaryOf(h.drRegion, name), name).toBeUndefined();
        expect(await get(h.drRegion, name), name).toBe(values.get(name));
      }
      console.log(
        `[chaos] SIGTERM after ${atSignal}/${M} promotions: exit ${code} in ${Math.round(exitMs)} ms, failover done ${Math.round(doneMs)} ms after the signal`,
      );
    } finally {
      await a.kill();
      await b?.kill();
    }
  }, 240_000);

  it('the Temporal dev server SIGKILLed mid-failover and started again on the same database file and port: the failover resumes and finishes', async () => {
    const home = mkdtempSync(join(tmpdir(), 'secrets-dr-chaos-server-'));
    const dbFile = join(home, 'temporal.db');
    let server: TemporalServer = await startTemporalDevServer({ home, detached: false, dbFile });
    const port = Number(server.address.split(':').pop());
    const prefix = `t-chaos-srv-${randomBytes(4).toString('hex')}`;
    const spawnOne = () => spawnWorker({ temporalAddress: server.address, labUrl: inject('labUrl'), prefix, regions: [h.primaryRegion, h.drRegion], logs });
    let worker = await spawnOne();
    let connection = await Connection.connect({ address: server.address });
    try {
      const names = Array.from({ length: N }, (_, i) => `${h.names}server/s${String(i).padStart(2, '0')}`);
      const values = new Map(names.map((n) => [n, `chaos-srv-${randomBytes(12).toString('hex')}`]));
      await h.lab!.seed(
        h.primaryRegion,
        names.map((name) => ({ name, value: values.get(name)!, replicaRegions: [h.drRegion] })),
      );
      await eventually('replicas of the seeded fleet', async () => ((await h.lab!.status()).pendingReplications === 0 ? true : undefined));
      const base = h.plan('failover:\n  requireApproval: false\n  writeQuotaShare: 0.1\n');
      const plan: Plan = { ...base, name: `${base.name}-server`, secrets: { include: [{ prefix: `${h.names}server/` }], exclude: [] } };
      await h.lab!.resetCounters([h.primaryRegion, h.drRegion]);
      await new Client({ connection, dataConverter }).workflow.start<typeof failoverWorkflow>('failoverWorkflow', {
        taskQueue: workflowTaskQueue(prefix),
        workflowId: failoverWorkflowId(plan.name),
        args: [{ plan, to: h.drRegion, mode: 'planned', skipApproval: true, dryRun: false, taskQueuePrefix: prefix }],
        workflowExecutionTimeout: '4m',
      });
      await eventually('promotion under way', async () => ((await count(h.drRegion, 'StopReplicationToReplica')).calls >= 6 ? true : undefined), 60_000, 50);

      // SIGKILL the server (no graceful shutdown), then the same database file on the same port.
      process.kill(server.pid, 'SIGKILL');
      await eventually('the dev server to die', async () => (isAlive(server.pid) ? undefined : true), 10_000, 50);
      await connection.close().catch(() => undefined);
      const atKill = (await count(h.drRegion, 'StopReplicationToReplica')).calls;
      server = await startTemporalDevServer({ home, detached: false, dbFile, port });
      expect(server.address.endsWith(`:${port}`)).toBe(true);
      // The worker reconnects by itself when it can; one that gave up is replaced (and the test says so).
      if (worker.child.exitCode !== null || worker.child.signalCode !== null) {
        console.log('[chaos] the worker exited while the server was down; a new one takes over');
        worker = await spawnOne();
      }
      connection = await Connection.connect({ address: server.address });
      const report = await new Client({ connection, dataConverter }).workflow.getHandle<typeof failoverWorkflow>(failoverWorkflowId(plan.name)).result();
      expect(report.outcome, JSON.stringify(report.attention)).toBe('done');
      expect(report.counts.promoted + report.counts.alreadyStandalone).toBe(N);
      expect(await count(h.drRegion, 'StopReplicationToReplica'), `killed after ${atKill} promotions`).toMatchObject({ calls: N, failed: 0 });
      for (const name of names) {
        expect(await primaryOf(h.drRegion, name), name).toBeUndefined();
        expect(await get(h.drRegion, name), name).toBe(values.get(name));
      }
      console.log(`[chaos] dev server killed after ${atKill}/${N} promotions; resumed and finished`);
    } finally {
      await worker.kill();
      await connection.close().catch(() => undefined);
      await server.stop();
      rmSync(home, { recursive: true, force: true });
    }
  }, 240_000);
});

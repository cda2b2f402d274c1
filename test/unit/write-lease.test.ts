/**
 * The write lease's worst cases that need no Temporal: a deadline on whichever clock says first (a wall clock
 * stepped back never extends it, nor does a host suspended), the ask before a renewal bounded (a silent holder of
 * the earlier lease never holds a renewal up), the gate asked again before each SDK attempt (an SDK retry after the
 * lease closed sends nothing), and a cross-Region write into a Region this process holds no lease of (refused under
 * leases).
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SecretsManager } from '@aws-sdk/client-secrets-manager';
import { addWriteGate, requireWriteGates, writeGateAtSend, WriteGovernor } from '../../activities/write-governor.js';
import { AsyncLocalStorage } from 'node:async_hooks';
import type { NativeConnection } from '@temporalio/worker';
import { LeaseDeadline, RegionLease } from '../../worker/region-lease.js';
import { noAnswerRetryStrategy } from '../../worker/sdk-retry.js';
import { createRegionClients } from '../../worker/aws-clients.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('lease deadline: on the monotonic and the wall clock, whichever says first', () => {
  it('a wall clock stepped back an hour does not extend the lease: it closes on time (the wall clock alone would keep it open)', () => {
    // Prepare: both clocks faked; only the wall clock (Date) is stepped.
    vi.useFakeTimers({ now: 5_000_000, toFake: ['Date', 'performance', 'setTimeout', 'clearTimeout'] });
    const monotonic = new LeaseDeadline('m8-test');
    const wall = new LeaseDeadline(
      'm8-test',
      () => Date.now(),
      () => Date.now(),
    ); // the wall clock alone: the positive control
    monotonic.granted(monotonic.now(), 10_000, monotonic.wallNow());
    wall.granted(wall.now(), 10_000, wall.wallNow());
    expect([monotonic.closedBecause(), wall.closedBecause()]).toEqual([undefined, undefined]);

    // Act: NTP steps the wall clock back an hour, then 8.5 s pass (the 10-s term less the 2-s write margin is over).
    vi.setSystemTime(Date.now() - 3_600_000);
    vi.advanceTimersByTime(8_500);

    // Assess
    expect(monotonic.closedBecause()).toMatch(/write lease of m8-test was not renewed in time/);
    expect(wall.closedBecause(), 'a deadline on the wall clock would still let writes out').toBeUndefined();
  });

  it('a host suspended (its monotonic clock stopped, the wall clock ran on) closes the lease on the wall clock: whichever clock says first', () => {
    // Prepare: both clocks injected, read before asking.
    let monotonic = 1_000;
    let wall = Date.UTC(2026, 11, 2);
    const d = new LeaseDeadline(
      'r18-suspend',
      () => monotonic,
      () => wall,
    );
    d.granted(monotonic, 10_000, wall);
    expect(d.closedBecause()).toBeUndefined();

    // Act: the host sleeps 60 s (performance.now does not advance meanwhile), then 1 s passes on both clocks.
    wall += 60_000;
    monotonic += 1_000;
    wall += 1_000;

    // Assess
    expect(d.closedBecause()).toMatch(/write lease of r18-suspend was not renewed in time/);
  });

  it('both clocks running together: the lease closes at its term less the write margin, not before', () => {
    let now = 5_000;
    const d = new LeaseDeadline(
      'r18-both',
      () => now,
      () => now + 1_000_000,
    );
    d.granted(now, 10_000, now + 1_000_000);
    now += 7_999;
    expect(d.closedBecause()).toBeUndefined();
    now += 1;
    expect(d.closedBecause()).toMatch(/not renewed in time/);
  });

  it('a lease just taken stays closed for its quiet time (cross-Region writes too), then opens', () => {
    let now = 1_000;
    const d = new LeaseDeadline('m8-quiet', () => now);
    d.granted(now, 10_000, d.wallNow());
    d.quietFor(1_100);
    expect(d.closedBecause()).toMatch(/just taken/);
    now += 1_100;
    expect(d.closedBecause()).toBeUndefined();
  });

  it('a lease never granted, or ended, is closed', () => {
    const d = new LeaseDeadline('m8-never');
    expect(d.closedBecause()).toMatch(/does not hold the write lease of m8-never/);
    d.granted(d.now(), 10_000, d.wallNow());
    expect(d.closedBecause()).toBeUndefined();
    d.ended();
    expect(d.closedBecause()).toMatch(/does not hold/);
  });
});

/** A Secrets Manager client over a fake HTTP handler: the first attempt dies with a reset socket (the SDK retries it). */
function clientWithResetFirstAttempt(region: string, onFirstAttempt: () => void) {
  const attempts: string[] = [];
  const handler = {
    async handle(request: { headers: Record<string, string> }) {
      attempts.push(request.headers['x-amz-target'] ?? '?');
      if (attempts.length === 1) {
        onFirstAttempt();
        throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
      }
      const body = JSON.stringify({ ARN: `arn:aws:secretsmanager:${region}:123456789012:secret:s-AbCdEf`, Name: 's', VersionId: 'v2' });
      return { response: { statusCode: 200, headers: { 'content-type': 'application/x-amz-json-1.1' }, body: Buffer.from(body) } };
    },
    updateHttpClientConfig() {},
    httpHandlerConfigs: () => ({}),
    destroy() {},
  };
  const sm = new SecretsManager({
    region,
    endpoint: 'http://127.0.0.1:9',
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
    requestHandler: handler,
    retryStrategy: noAnswerRetryStrategy(3, () => 0),
  });
  return { sm, attempts };
}

describe('write gate: asked at every SDK attempt', () => {
  it('a lease that closes during the first attempt stops the SDK retry: WriteLeaseLost, the second attempt never sent', async () => {
    // Positive control: without the middleware the SDK does send a second attempt after the lease closed.
    let held = true;
    const remove = addWriteGate('m3-test', () => (held ? undefined : 'the write lease of m3-test was not renewed in time'));
    try {
      const bare = clientWithResetFirstAttempt('m3-test', () => (held = false));
      await new WriteGovernor(10, 'm3-test').write(() => bare.sm.putSecretValue({ SecretId: 's', SecretString: 'v' }));
      expect(bare.attempts, 'control: the SDK retried after the gate closed').toEqual(['secretsmanager.PutSecretValue', 'secretsmanager.PutSecretValue']);

      // Act: the same with the gate at the attempt (as every worker client has it).
      held = true;
      const gated = clientWithResetFirstAttempt('m3-test', () => (held = false));
      gated.sm.middlewareStack.use(writeGateAtSend);
      const g = new WriteGovernor(10, 'm3-test');
      const out = await g.write(() => gated.sm.putSecretValue({ SecretId: 's', SecretString: 'v' })).catch((e: unknown) => e);

      // Assess
      expect(out).toMatchObject({
        type: 'WriteLeaseLost',
        message: expect.stringMatching(/m3-test: not sent: .*not renewed in time \(checked at the SDK's attempt\)/),
      });
      expect(gated.attempts).toEqual(['secretsmanager.PutSecretValue']);
      expect(g.stats, 'the refusal is not a throttle (the rate stays)').toMatchObject({ sends: 1, throttled: 0 });
    } finally {
      remove();
    }
  });

  it('reads (not governed writes) pass the middleware with the gate closed; every worker Secrets Manager client carries it', async () => {
    const remove = addWriteGate('m3-read', () => 'closed');
    try {
      const c = clientWithResetFirstAttempt('m3-read', () => undefined);
      c.sm.middlewareStack.use(writeGateAtSend);
      await c.sm.describeSecret({ SecretId: 's' });
      expect(c.attempts).toEqual(['secretsmanager.DescribeSecret', 'secretsmanager.DescribeSecret']);
    } finally {
      remove();
    }
    const worker = createRegionClients('m3-read', { requestTimeoutMs: 1_000 }).secretsManager;
    if (!(worker instanceof SecretsManager)) throw new Error('the worker clients are SDK SecretsManager clients');
    expect(worker.middlewareStack.identify()).toContainEqual(expect.stringMatching(/^secretsDrWriteGate/));
  });
});

describe('write gate: a cross-Region write', () => {
  it('under write leases, a write into a Region this process serves no lease of is refused (it would bypass the holder’s governor)', async () => {
    const release = requireWriteGates();
    let sent = 0;
    try {
      const out = await new WriteGovernor(10, 'm4-elsewhere').write(async () => ++sent).catch((e: unknown) => e);
      expect(out).toMatchObject({
        type: 'WriteLeaseLost',
        message: expect.stringMatching(/serves no write lease of m4-elsewhere.*give this worker m4-elsewhere among its Regions/),
      });
      expect(sent).toBe(0);
    } finally {
      release();
    }
    // Without workers in the process (activity unit tests, the CLI), nothing is required.
    expect(await new WriteGovernor(10, 'm4-elsewhere').write(async () => ++sent)).toBe(1);
  });
});

/**
 * A Temporal connection that answers nothing about the earlier lease (describe and query hang, as behind a paused
 * holder or a stalled server) until the call's deadline, where it fails as gRPC does (DEADLINE_EXCEEDED).
 */
function connectionWithSilentEarlierLease() {
  const calls: string[] = [];
  const deadline = new AsyncLocalStorage<number>();
  const silent = (what: string) => () => {
    calls.push(what);
    const at = deadline.getStore();
    return new Promise((_resolve, reject) => {
      if (at !== undefined) setTimeout(() => reject(Object.assign(new Error('deadline exceeded'), { code: 4 })), Math.max(0, at - Date.now()));
    });
  };
  const workflowService = {
    startWorkflowExecution: async () => (calls.push('start'), { runId: 'run-1', started: true }),
    describeWorkflowExecution: silent('describe'),
    queryWorkflow: silent('query'),
    updateWorkflowExecution: async () => {
      calls.push('renew');
      throw Object.assign(new Error('no server in this test'), { code: 14 });
    },
    signalWorkflowExecution: async () => (calls.push('release'), {}),
  };
  const connection = {
    workflowService,
    withDeadline: <T>(at: number | Date, fn: () => Promise<T>) => deadline.run(+at, fn),
    withMetadata: <T>(_m: unknown, fn: () => Promise<T>) => fn(),
    withAbortSignal: <T>(_s: unknown, fn: () => Promise<T>) => fn(),
  };
  return { connection: connection as unknown as NativeConnection, calls };
}

describe('write lease: asking the earlier lease before a renewal', () => {
  it('an earlier lease whose holder does not answer never holds up this lease’s renewal: the ask gives up within a second, as "do not yield"', async () => {
    // Prepare: this process holds the later Region's lease without the earlier one (another process's, silent).
    vi.useFakeTimers({ now: 7_000_000, toFake: ['Date', 'performance', 'setTimeout', 'clearTimeout'] });
    const { connection, calls } = connectionWithSilentEarlierLease();
    let stopWorker: () => void = () => undefined;
    let state: 'RUNNING' | 'STOPPED' = 'RUNNING';
    const earlier = { held: false, id: 'lease-earlier', holder: 'this-process-earlier' } as unknown as RegionLease;
    const lease = new RegionLease({
      connection,
      namespace: 'default',
      region: 'r18-yield',
      taskQueuePrefix: 'r18',
      after: earlier,
      deferMs: 0,
      quietMs: 0,
      createWorker: async () => ({
        run: () => new Promise<void>((resolve) => (stopWorker = resolve)),
        shutdown: () => ((state = 'STOPPED'), stopWorker()),
        getState: () => state as never,
      }),
    });

    // Act: the first renewal is due 2 s in; the ask before it goes unanswered.
    await vi.advanceTimersByTimeAsync(2_000 + 1_500);

    // Assess: the renewal was sent (it fails here: no server), and the lease still holds.
    expect(calls.slice(0, 3)).toEqual(['start', 'describe', 'renew']);
    expect(lease.held).toBe(true);
    const stopping = lease.stop();
    await vi.advanceTimersByTimeAsync(2_000);
    await stopping;
  });
});

describe('write lease: a stop renews the lease while the Region worker drains', () => {
  it('after stop() (SIGTERM) the lease stays held while activities still run (their writes go on), and is released once they end', async () => {
    // Prepare: a server that grants and renews; a Region worker whose activities take 20 s to drain after shutdown().
    vi.useFakeTimers({ now: 8_000_000, toFake: ['Date', 'performance', 'setTimeout', 'clearTimeout'] });
    const calls: string[] = [];
    const workflowService = {
      startWorkflowExecution: async () => (calls.push('start'), { runId: 'run-1', started: true }),
      updateWorkflowExecution: async () => (
        calls.push('renew'),
        { stage: 3, updateRef: { workflowExecution: { runId: 'run-1' } }, outcome: { success: { payloads: [] } } }
      ),
      signalWorkflowExecution: async () => (calls.push('release'), {}),
    };
    const connection = {
      workflowService,
      withDeadline: <T>(_at: number | Date, fn: () => Promise<T>) => fn(),
      withMetadata: <T>(_m: unknown, fn: () => Promise<T>) => fn(),
      withAbortSignal: <T>(_s: unknown, fn: () => Promise<T>) => fn(),
    } as unknown as NativeConnection;
    let drainedAll: () => void = () => undefined;
    let state: 'RUNNING' | 'DRAINING' | 'STOPPED' = 'RUNNING';
    const lease = new RegionLease({
      connection,
      namespace: 'default',
      region: 'r18-drain',
      taskQueuePrefix: 'r18',
      deferMs: 0,
      quietMs: 0,
      createWorker: async () => ({
        run: () => new Promise<void>((resolve) => (drainedAll = () => ((state = 'STOPPED'), resolve()))),
        shutdown: () => void (state = 'DRAINING'),
        getState: () => state as never,
      }),
    });
    await vi.advanceTimersByTimeAsync(500);
    expect(lease.held).toBe(true);

    // Act: stop, and let 20 s pass with the activities still running (the term is 10 s, the gate closes 2 s before it).
    const stopping = lease.stop();
    const renewsBefore = calls.filter((c) => c === 'renew').length;
    await vi.advanceTimersByTimeAsync(20_000);

    // Assess: still held, renewed all along, not released; then released once the activities ended.
    expect(state).toBe('DRAINING');
    expect(lease.held, 'the write gate is open while the activities drain').toBe(true);
    expect(calls.filter((c) => c === 'renew').length - renewsBefore).toBeGreaterThanOrEqual(9);
    expect(calls).not.toContain('release');
    expect(lease.servedSignal.aborted, "a stop leaves the activities their grace time: the lease's signal is not aborted").toBe(false);
    drainedAll();
    await vi.advanceTimersByTimeAsync(100);
    await stopping;
    expect(calls.at(-1)).toBe('release');
    expect(lease.held).toBe(false);
  });
});

describe('write lease: lost, its activities end at once', () => {
  it("a lease whose renewals fail is lost at its deadline, and the signal its Region's activities run under is aborted then (not at a stop)", async () => {
    vi.useFakeTimers({ now: 9_000_000, toFake: ['Date', 'performance', 'setTimeout', 'clearTimeout'] });
    const { connection } = connectionWithSilentEarlierLease();
    const lease = new RegionLease({
      connection,
      namespace: 'default',
      region: 'r18-lost',
      taskQueuePrefix: 'r18',
      deferMs: 0,
      quietMs: 0,
      // A worker per term, each with its own state.
      createWorker: async () => {
        let stopWorker: () => void = () => undefined;
        let state: 'RUNNING' | 'STOPPED' = 'RUNNING';
        return {
          run: () => new Promise<void>((resolve) => (stopWorker = resolve)),
          shutdown: () => ((state = 'STOPPED'), stopWorker()),
          getState: () => state as never,
        };
      },
    });
    await vi.advanceTimersByTimeAsync(500);
    expect(lease.held).toBe(true);
    const signal = lease.servedSignal;
    expect(signal.aborted).toBe(false);
    // Every renewal fails (no server): the gate closes 2 s before the 10-s term, and the loop ends as "lost" (this
    // fake server grants the lease again at once: a new term, with a signal of its own).
    await vi.advanceTimersByTimeAsync(12_000);
    expect(signal.aborted).toBe(true);
    expect(lease.servedSignal).not.toBe(signal);
    expect(String((signal.reason as Error).message)).toContain('write lease of r18-lost was lost');
    const stopping = lease.stop();
    await vi.advanceTimersByTimeAsync(2_000);
    await stopping;
  });
});

describe('write lease: a stop while the lease is being asked for', () => {
  it('a lease granted after stop() was called is given back at once (not left taken until its 10-s term)', async () => {
    // Prepare: a server that grants the lease 1 s after it is asked (a slow Temporal).
    vi.useFakeTimers({ now: 9_000_000, toFake: ['Date', 'performance', 'setTimeout', 'clearTimeout'] });
    const calls: string[] = [];
    const workflowService = {
      startWorkflowExecution: () => new Promise((r) => setTimeout(() => r((calls.push('start'), { runId: 'run-1', started: true })), 1_000)),
      signalWorkflowExecution: async () => (calls.push('release'), {}),
    };
    const connection = {
      workflowService,
      withDeadline: <T>(_at: number | Date, fn: () => Promise<T>) => fn(),
      withMetadata: <T>(_m: unknown, fn: () => Promise<T>) => fn(),
      withAbortSignal: <T>(_s: unknown, fn: () => Promise<T>) => fn(),
    } as unknown as NativeConnection;
    let created = 0;
    const lease = new RegionLease({
      connection,
      namespace: 'default',
      region: 'r18-asking',
      taskQueuePrefix: 'r18',
      deferMs: 0,
      quietMs: 0,
      createWorker: async () => {
        created++;
        return { run: () => new Promise<void>(() => undefined), shutdown: () => undefined, getState: () => 'RUNNING' as never };
      },
    });

    // Act: stop while the start call is in flight; the grant arrives afterwards.
    await vi.advanceTimersByTimeAsync(200);
    const stopping = lease.stop();
    await vi.advanceTimersByTimeAsync(2_500);
    await stopping;

    // Assess: taken, then released at once; no Region worker ever ran under it.
    expect(calls.slice(0, 2)).toEqual(['start', 'release']);
    expect(created).toBe(0);
    expect(lease.held).toBe(false);
  });
});

/**
 * Scale-out without a per-process setting: any number of worker processes may serve a Region, and one of
 * them at a time runs the Region's activities (all its AWS calls, hence all its writes). That one holds the
 * Region's write lease (workflows/write-lease.workflow.ts); the others keep serving workflows and wait, so
 * the Region's one write governor (activities/write-governor.ts) paces every write at `writeQuotaShare` and
 * three workers never send more than one does.
 *
 * Why not Temporal's task-queue rate limit (`maxTaskQueueActivitiesPerSecond`)? It limits activity tasks
 * dispatched, not AWS writes (one of our activities is a batch of up to 100 secrets, several writes each),
 * it is split across the task queue's partitions (4 by default outside the dev server) each with a burst
 * of its own, and the last poller's value wins. Making every write its own rate-limited activity would
 * add ~3 history events per write and still let dispatch bursts and network jitter through.
 *
 * Safety of a handover (the worst cases):
 * - The holder's deadline is measured from before it asked (start or renewal), so it ends before the
 *   lease workflow's timer does; the write gate closes WRITE_MARGIN_MS earlier still, and a write the
 *   gate refuses fails with `WriteLeaseLost` (retryable: the retry lands on the new holder).
 * - A new holder waits QUIET_MS before its first activity, so the old holder's last second of writes
 *   and its own first second never fall into one window (the governor's window is one second).
 * - A worker that stops (SIGTERM) finishes its activities, then releases the lease; one that crashes is
 *   replaced when the lease expires (LEASE_TERM_MS), its activities retried after their heartbeat timeout.
 * - Some activities write in a second Region (conflict backups, failback copy-back, restore, drill canaries):
 *   a process asks for its Regions' leases in one order (sorted). It asks for a later one at once while it holds
 *   the earlier one; without it, it defers DEFER_MS first (the earlier one's holder, asking at once, wins the
 *   race), and it gives a later lease up when the earlier one's holder serves that Region too (the holder's
 *   Regions are in the lease: `writeLeaseHolderQuery`). So identical workers never split the Regions between
 *   them (one holds them all, the others stand by), and workers whose Regions only partly overlap (A: X,Y;
 *   B: Y,Z) never starve a Region: B takes Z even though A holds Y, since A cannot serve Z. (A write by B's
 *   Z activities into Y is then refused by the gate and retried: give cross-Region plans' Regions to the same
 *   workers.)
 * - Deadlines are on this process's monotonic clock (performance.now) and on the wall clock both, and a lease
 *   closes on whichever says first: a wall clock stepped back (NTP, an operator) never extends it, and neither
 *   does a host suspended meanwhile (a VM paused or a laptop asleep: the monotonic clock stops, the wall clock
 *   runs on, and so does the lease workflow's timer). The gate is asked again before every SDK attempt goes on the wire
 *   (write-governor.ts `writeGateAtSend`), so an SDK retry, or a process paused after the governor let a write
 *   through, sends nothing after the deadline.
 * - The lease workflow runs on its own task queue (`writeLeaseTaskQueue`): renewals never wait behind a busy
 *   workflow queue. A standby's wait for the lease's end is a series of short long polls: one left open when it
 *   stops ends within POLL_MS (the native connection cannot cancel a call).
 */
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import { Client, isGrpcDeadlineError, WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import type { NativeConnection, Worker } from '@temporalio/worker';
import { writeLeaseTaskQueue, writeLeaseWorkflowId } from '../domain/ids.js';
import { addWriteGate } from '../activities/write-governor.js';
import type { writeLeaseWorkflow } from '../workflows/write-lease.workflow.js';
import { releaseWriteLeaseSignal, renewWriteLeaseUpdate, writeLeaseHolderQuery } from '../workflows/write-lease.messages.js';
import { dataConverter } from './payload-codec.js';

const LEASE_TERM_MS = 10_000;
const RENEW_EVERY_MS = 2_000;
/** The gate closes this long before the holder's own deadline (clock rates, a slow event loop). */
const WRITE_MARGIN_MS = 2_000;
/** A new holder's pause before its first write: the previous holder's last window ends meanwhile. */
const QUIET_MS = 1_100;
/** Without the earlier lease, this long before asking for a later one: the earlier one's holder asks at once and wins. */
const DEFER_MS = 3_000;
/** A standby's long poll for the lease's end lasts at most this long (then it polls again, unless stopped). */
const POLL_MS = 5_000;
/**
 * The ask before a renewal (does the earlier lease's holder serve this Region?) gets this long: a paused holder or a
 * stalled server must not hold the renewal up (renewals come every RENEW_EVERY_MS; the gate closes TERM - MARGIN after
 * the last one). No answer in time is "do not yield" (asked again before the next renewal).
 */
const YIELD_ASK_MS = 1_000;
/**
 * A stopping holder waits at most this long for its release to take effect (the lease workflow ended). The signal's
 * workflow task goes to this process's own lease worker (sticky); a process that shut that worker down first left
 * the task to its 10-s timeout, and the standby took the Region ~10 s late (the chaos test's SIGTERM run). It takes
 * tens of ms; kept short, since it comes after the activities' drain, inside SECRETS_DR_SHUTDOWN_TIMEOUT_MS.
 */
const RELEASE_SETTLE_MS = 1_000;
/**
 * The lease workflow's task timeout. A process shutting down can poll a lease's workflow task and exit without
 * finishing it (seen in the chaos test's SIGTERM run: the standby's lease, just taken, then had its renewals held
 * for the default 10 s, its gate closed at 8 s, and its first promotion batch failed with WriteLeaseLost).
 */
const LEASE_TASK_TIMEOUT = '3s';
/** How long a lease's task waits for the process that has it cached before any lease worker may take it (worker.ts). */
export const LEASE_STICKY_TIMEOUT = '2s';

/** Waits for `p` (which must not reject) or `ms`, whichever comes first; the timer does not outlive the wait. */
async function waitAtMost(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([p, new Promise<void>((r) => (timer = setTimeout(r, ms)))]);
  clearTimeout(timer);
}

/** This process's clock for lease deadlines (ms): monotonic, never stepped by NTP or an operator (but stopped while the host sleeps). */
const monotonicNow = () => performance.now();
/** The wall clock (ms): runs on while the host sleeps (but NTP or an operator may step it). */
const wallClockNow = () => Date.now();

/**
 * When this process's hold on a lease ends: `termMs` after readings of both clocks taken before asking (so always
 * before the lease workflow's own timer), on whichever clock gets there first, closed WRITE_MARGIN_MS earlier still.
 */
export class LeaseDeadline {
  private validUntil: number | undefined;
  private wallValidUntil: number | undefined;
  constructor(
    private readonly region: string,
    readonly now: () => number = monotonicNow,
    readonly wallNow: () => number = wallClockNow,
  ) {}

  private quietUntil = 0;

  /** Granted for `termMs` from before asking: `askedAt` read from `now`, `wallAskedAt` from `wallNow`, both before the ask. */
  granted(askedAt: number, termMs: number, wallAskedAt: number): void {
    this.validUntil = askedAt + termMs;
    this.wallValidUntil = wallAskedAt + termMs;
  }

  /** Just taken: closed for `ms` more (the previous holder's last window of writes passes first; cross-Region writes included). */
  quietFor(ms: number): void {
    this.quietUntil = this.now() + ms;
  }

  ended(): void {
    this.validUntil = undefined;
    this.wallValidUntil = undefined;
  }

  /** Why a write may not go out under this lease now, or undefined. */
  closedBecause(): string | undefined {
    if (this.validUntil === undefined || this.wallValidUntil === undefined) return `this worker process does not hold the write lease of ${this.region}`;
    if (this.now() < this.quietUntil) return `the write lease of ${this.region} was just taken (a quiet second after the previous holder's writes)`;
    if (this.now() >= this.validUntil - WRITE_MARGIN_MS || this.wallNow() >= this.wallValidUntil - WRITE_MARGIN_MS)
      return `the write lease of ${this.region} was not renewed in time`;
    return undefined;
  }
}

/** What a lease runs while held: the Region's activity worker (tests pass a stand-in). */
type RegionWorker = Pick<Worker, 'run' | 'shutdown' | 'getState'>;

interface RegionLeaseOptions {
  connection: NativeConnection;
  namespace: string;
  region: string;
  taskQueuePrefix: string;
  /** Creates the Region's activity worker (called on every acquisition). */
  createWorker(): Promise<RegionWorker>;
  /** Every Region this process serves (written into the lease: another process yields a later Region to a holder serving it). */
  serves?: readonly string[];
  log?(message: string): void;
  /** The lease taken before this one (this process's Regions in sorted order): without it, this one is asked for after DEFER_MS and given up to its holder when that process serves this Region too. */
  after?: RegionLease;
  termMs?: number;
  renewEveryMs?: number;
  quietMs?: number;
  deferMs?: number;
  /** The monotonic clock of the deadline (tests). */
  now?: () => number;
  /** The wall clock of the deadline (tests). */
  wallNow?: () => number;
}

/** This process's claim on one Region: acquire, run the Region's worker while held, renew, release. */
export class RegionLease {
  readonly holder = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  private readonly client: Client;
  private readonly id: string;
  private readonly term: number;
  private readonly deadline: LeaseDeadline;
  private stopped = false;
  private wake: (() => void) | undefined;
  private readonly removeGate: () => void;
  private worker: RegionWorker | undefined;
  /** Resolves when the lease loop has ended (after stop()). */
  readonly done: Promise<void>;
  /** `polls`: long polls open now (a standby waiting for the lease's end). */
  readonly stats = { acquired: 0, lost: 0, yielded: 0, polls: 0 };

  constructor(private readonly o: RegionLeaseOptions) {
    this.client = new Client({ connection: o.connection, namespace: o.namespace, dataConverter });
    this.id = writeLeaseWorkflowId(o.region, o.taskQueuePrefix);
    this.term = o.termMs ?? LEASE_TERM_MS;
    this.deadline = new LeaseDeadline(o.region, o.now, o.wallNow);
    this.removeGate = addWriteGate(o.region, () => this.deadline.closedBecause());
    this.done = this.loop();
  }

  /** Whether this process holds the lease now (with the margin). */
  get held(): boolean {
    return this.deadline.closedBecause() === undefined;
  }

  private async pause(ms: number): Promise<void> {
    if (this.stopped) return;
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(t);
        resolve();
      };
    });
    this.wake = undefined;
  }

  private async acquire(): Promise<boolean> {
    const asked = this.deadline.now();
    const wallAsked = this.deadline.wallNow();
    try {
      const started = await this.client.workflow.start<typeof writeLeaseWorkflow>('writeLeaseWorkflow', {
        workflowId: this.id,
        taskQueue: writeLeaseTaskQueue(this.o.taskQueuePrefix),
        args: [{ region: this.o.region, holder: this.holder, termMs: this.term, serves: [...(this.o.serves ?? [this.o.region])] }],
        workflowIdConflictPolicy: 'FAIL',
        workflowIdReusePolicy: 'ALLOW_DUPLICATE',
        // A task a stopping process polled and never finished is retried after this (not the default 10 s): a renewal
        // so held waits at most the sticky 2 s and these 3 s, within the 8 s before the gate closes (continue-as-new
        // runs keep it: the server reuses the previous run's task timeout).
        workflowTaskTimeout: LEASE_TASK_TIMEOUT,
      });
      this.deadline.granted(asked, this.term, wallAsked);
      this.deadline.quietFor(this.o.quietMs ?? QUIET_MS);
      this.chain = started.firstExecutionRunId;
      return true;
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      await this.awaitEnd();
      return false;
    }
  }

  /**
   * Someone holds the lease: wait for its end (released or expired; at most 3 terms), then race for it again. The
   * wait is a series of long polls of at most POLL_MS each (a deadline: the worker's native connection cannot cancel
   * a call), so a standby that stops leaves no poll open for longer than that.
   */
  private async awaitEnd(): Promise<void> {
    const until = this.deadline.now() + this.term * 3;
    while (!this.stopped && this.deadline.now() < until) {
      const polled = this.deadline.now();
      this.stats.polls++;
      // The API takes a wall-clock deadline; the poll's own length is what matters here.
      const poll = this.client
        .withDeadline(Date.now() + POLL_MS, () => this.client.workflow.getHandle(this.id).result())
        .then(
          () => 'ended' as const,
          // Ended otherwise (terminated, not found) or Temporal unreachable: race (acquire reports what is wrong).
          // A poll cut by its deadline: poll again.
          (err: unknown) => (isGrpcDeadlineError(err) || this.deadline.now() - polled >= POLL_MS - 50 ? ('again' as const) : ('ended' as const)),
        )
        .finally(() => this.stats.polls--);
      // stop() wakes the pause: the loop ends at once, the poll runs out on its own within POLL_MS.
      const r = await Promise.race([poll, this.pause(POLL_MS + 1_000).then(() => 'woken' as const)]);
      this.wake?.();
      if (r === 'ended') return;
    }
  }

  private async renew(): Promise<boolean> {
    const asked = this.deadline.now();
    const wallAsked = this.deadline.wallNow();
    try {
      await this.client.workflow.getHandle(this.id).executeUpdate(renewWriteLeaseUpdate, { args: [{ holder: this.holder }] });
      this.deadline.granted(asked, this.term, wallAsked);
      return true;
    } catch (err) {
      // Refused (another holder, released, expired) or Temporal unreachable: held only until the deadline.
      this.o.log?.(`write lease of ${this.o.region}: renewal failed: ${(err as Error).message}`);
      return false;
    }
  }

  /** Without the earlier lease: give its holder DEFER_MS to take this one first; ask at once when the earlier one becomes ours. */
  private async defer(): Promise<void> {
    const until = this.deadline.now() + (this.o.deferMs ?? DEFER_MS);
    while (!this.stopped && this.o.after && !this.o.after.held && this.deadline.now() < until) await this.pause(100);
  }

  /** Held without the earlier lease: yield this one when the earlier one's holder (another process) serves this Region too. */
  private async shouldYield(): Promise<boolean> {
    const after = this.o.after;
    if (!after || after.held) return false;
    try {
      // The API takes a wall-clock deadline; the ask's own length is what matters here.
      return await this.client.withDeadline(Date.now() + YIELD_ASK_MS, async () => {
        const handle = this.client.workflow.getHandle(after.id);
        if ((await handle.describe()).status.name !== 'RUNNING') return false;
        const { holder, serves } = await handle.query(writeLeaseHolderQuery);
        return holder !== after.holder && serves.includes(this.o.region);
      });
    } catch {
      return false; // nobody to yield to now, or no answer in time: asked again at the next renewal
    }
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      if (this.o.after && !this.o.after.held) await this.defer();
      if (this.stopped) break;
      let got = false;
      try {
        got = await this.acquire();
      } catch (err) {
        this.o.log?.(`write lease of ${this.o.region}: cannot ask Temporal: ${(err as Error).message}`);
        await this.pause(RENEW_EVERY_MS);
      }
      if (got && this.stopped) await this.release(true); // stopped while asking: taken, so given back at once
      if (!got || this.stopped) continue;
      this.stats.acquired++;
      await this.pause((this.o.quietMs ?? QUIET_MS) + 10); // the gate opens at its end (LeaseDeadline.quietFor)
      if (this.stopped)
        await this.release(true); // stopped during the quiet pause: the next holder need not wait for the term
      // A Region worker that ended by itself (it failed): a standby gets the first chance at the lease.
      else if ((await this.serve()) === 'ended') await this.pause(this.o.deferMs ?? DEFER_MS);
    }
  }

  /** The first run of the lease chain this process started (its continue-as-new runs follow it); a standby's later chain is another. */
  private chain: string | undefined;

  private served = new AbortController();
  /**
   * Aborted when this process stops holding the lease other than by stop() (lost, yielded): the Region's activities
   * started under it end at once (activities/cancellation.ts `cancelledOutcome`), their writes being refused anyway.
   */
  get servedSignal(): AbortSignal {
    return this.served.signal;
  }

  /** Runs the Region's worker while the lease holds; ends on stop(), a yield, its worker's end, or a renewal too late. */
  private async serve(): Promise<'stopped' | 'ended' | 'yielded' | 'lost'> {
    this.served = new AbortController();
    const worker = await this.o.createWorker();
    this.worker = worker;
    const running = worker.run();
    // A worker that ends by itself (it failed) must not keep the lease with nobody polling the Region's queue.
    let ended = false;
    void running.then(
      () => ((ended = true), this.wake?.()),
      () => ((ended = true), this.wake?.()),
    );
    let yielded = false;
    while (!this.stopped && !ended && this.held) {
      await this.pause(this.o.renewEveryMs ?? RENEW_EVERY_MS);
      if (this.stopped || ended) break;
      if ((yielded = await this.shouldYield())) break;
      if (!(await this.renew()) && !this.held) break;
    }
    const why = this.stopped ? 'stopped' : yielded ? 'yielded' : ended ? 'ended' : 'lost';
    if (why === 'yielded') this.stats.yielded++;
    if (why === 'ended' || why === 'lost') this.stats.lost++;
    if (why !== 'stopped') this.o.log?.(`write lease of ${this.o.region}: ${why}; stopping this process's ${this.o.region} activities`);
    if (why === 'yielded' || why === 'lost') this.served.abort(new Error(`this process's write lease of ${this.o.region} was ${why}`));
    if (worker.getState() === 'RUNNING') worker.shutdown();
    const drained = running.catch((err: unknown) => this.o.log?.(`worker of ${this.o.region} ended: ${(err as Error).message}`));
    // Stopped (SIGTERM): the lease is renewed while the activities drain (their grace time, then their cancellation), so
    // their writes go on until they end. Lost or yielded: not renewed (another process may take the Region now).
    if (why === 'stopped') await this.renewWhile(drained);
    else await drained;
    this.worker = undefined;
    // Activities finished (shutdown waits for them): the next holder may start at once (after its quiet pause). A
    // lease already taken by another process ignores the signal (it names its holder). Stopping, the release is
    // seen through before this process's workflow workers stop.
    await this.release(why === 'stopped');
    return why;
  }

  /** Renews the lease every RENEW_EVERY_MS until `draining` settles (or a renewal fails and the lease runs out). */
  private async renewWhile(draining: Promise<void>): Promise<void> {
    let done = false;
    void draining.then(() => (done = true));
    while (!done && this.held) {
      await waitAtMost(draining, this.o.renewEveryMs ?? RENEW_EVERY_MS);
      if (done) break;
      if (!(await this.renew()) && !this.held) break;
    }
    await draining;
  }

  /**
   * `settle` (stopping): wait, at most RELEASE_SETTLE_MS, until this process's lease chain has ended (the signal's
   * task has run).
   */
  private async release(settle = false): Promise<void> {
    this.deadline.ended();
    const sent = await this.client.workflow
      .getHandle(this.id)
      .signal(releaseWriteLeaseSignal, { holder: this.holder })
      .then(
        () => true,
        () => false,
      );
    // Our own chain: one that already ended (expired) answers at once; a standby's later chain is never waited on.
    if (!sent || !settle || this.chain === undefined) return;
    const chain = this.client.workflow.getHandle(this.id, undefined, { firstExecutionRunId: this.chain });
    // The API takes a wall-clock deadline (a call it cannot cancel); the local timer bounds the wait itself.
    await waitAtMost(
      this.client.withDeadline(Date.now() + RELEASE_SETTLE_MS, () => chain.result()).catch(() => undefined),
      RELEASE_SETTLE_MS,
    );
  }

  /** Begins stop(): the Region's worker takes no new task, and its shutdown grace time starts now. */
  beginStop(): void {
    this.stopped = true;
    this.wake?.();
    if (this.worker?.getState() === 'RUNNING') this.worker.shutdown();
  }

  /** Stop: finish the running activities, release the lease, end the loop (a standby's long poll ends within POLL_MS). */
  async stop(): Promise<void> {
    this.beginStop();
    await this.done;
    this.removeGate();
  }
}

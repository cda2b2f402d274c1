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
 *   a process asks for its Regions' leases in one order (sorted), each only while it holds the previous
 *   ones, and gives up the later ones when it loses an earlier one. So identical workers never split the
 *   Regions between them: one holds them all, the others stand by. (A process that serves Regions another
 *   one also serves, but not all of them, may hold a second Region without the first: its writes there
 *   are then refused by the gate and retried.)
 */
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import { Client, WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import type { NativeConnection, Worker } from '@temporalio/worker';
import { workflowTaskQueue, writeLeaseWorkflowId } from '../domain/ids.js';
import { addWriteGate } from '../activities/write-governor.js';
import type { writeLeaseWorkflow } from '../workflows/write-lease.workflow.js';
import { releaseWriteLeaseSignal, renewWriteLeaseUpdate } from '../workflows/write-lease.messages.js';

const LEASE_TERM_MS = 10_000;
const RENEW_EVERY_MS = 2_000;
/** The gate closes this long before the holder's own deadline (clock rates, a slow event loop). */
const WRITE_MARGIN_MS = 2_000;
/** A new holder's pause before its first write: the previous holder's last window ends meanwhile. */
const QUIET_MS = 1_100;

interface RegionLeaseOptions {
  connection: NativeConnection;
  namespace: string;
  region: string;
  taskQueuePrefix: string;
  /** Creates the Region's activity worker (called on every acquisition). */
  createWorker(): Promise<Worker>;
  log?(message: string): void;
  /** The lease taken before this one (this process's Regions in sorted order): asked for, and kept, only while it is held. */
  after?: RegionLease;
  termMs?: number;
  renewEveryMs?: number;
  quietMs?: number;
}

/** This process's claim on one Region: acquire, run the Region's worker while held, renew, release. */
export class RegionLease {
  readonly holder = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  private readonly client: Client;
  private readonly id: string;
  private readonly term: number;
  private stopped = false;
  private wake: (() => void) | undefined;
  private validUntil = 0;
  private readonly removeGate: () => void;
  private worker: Worker | undefined;
  /** Resolves when the lease loop has ended (after stop()). */
  readonly done: Promise<void>;
  readonly stats = { acquired: 0, lost: 0 };

  constructor(private readonly o: RegionLeaseOptions) {
    this.client = new Client({ connection: o.connection, namespace: o.namespace });
    this.id = writeLeaseWorkflowId(o.region, o.taskQueuePrefix);
    this.term = o.termMs ?? LEASE_TERM_MS;
    this.removeGate = addWriteGate(o.region, () => this.closedBecause());
    this.done = this.loop();
  }

  /** Whether this process holds the lease now (with the margin). */
  get held(): boolean {
    return this.closedBecause() === undefined;
  }

  private closedBecause(): string | undefined {
    if (this.validUntil === 0) return `this worker process does not hold the write lease of ${this.o.region}`;
    if (Date.now() >= this.validUntil - WRITE_MARGIN_MS) return `the write lease of ${this.o.region} was not renewed in time`;
    return undefined;
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
    const asked = Date.now();
    try {
      await this.client.workflow.start<typeof writeLeaseWorkflow>('writeLeaseWorkflow', {
        workflowId: this.id,
        taskQueue: workflowTaskQueue(this.o.taskQueuePrefix),
        args: [{ region: this.o.region, holder: this.holder, termMs: this.term }],
        workflowIdConflictPolicy: 'FAIL',
        workflowIdReusePolicy: 'ALLOW_DUPLICATE',
      });
      this.validUntil = asked + this.term;
      return true;
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      // Someone holds it: wait for its end (released or expired), then race for it again.
      await Promise.race([
        this.client.workflow
          .getHandle(this.id)
          .result()
          .catch(() => undefined),
        new Promise<void>((r) => void this.pause(this.term * 3).then(r)),
      ]);
      return false;
    }
  }

  private async renew(): Promise<boolean> {
    const asked = Date.now();
    try {
      await this.client.workflow.getHandle(this.id).executeUpdate(renewWriteLeaseUpdate, { args: [{ holder: this.holder }] });
      this.validUntil = asked + this.term;
      return true;
    } catch (err) {
      // Refused (another holder, released, expired) or Temporal unreachable: held only until the deadline.
      this.o.log?.(`write lease of ${this.o.region}: renewal failed: ${(err as Error).message}`);
      return false;
    }
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      if (this.o.after && !this.o.after.held) {
        await this.pause(250);
        continue;
      }
      let got = false;
      try {
        got = await this.acquire();
      } catch (err) {
        this.o.log?.(`write lease of ${this.o.region}: cannot ask Temporal: ${(err as Error).message}`);
        await this.pause(RENEW_EVERY_MS);
      }
      if (!got || this.stopped) continue;
      this.stats.acquired++;
      await this.pause(this.o.quietMs ?? QUIET_MS);
      if (!this.stopped) await this.serve();
      else await this.release(); // stopped during the quiet pause: the next holder need not wait for the term
    }
  }

  /** Runs the Region's worker while the lease holds; ends on stop() or when a renewal comes too late. */
  private async serve(): Promise<void> {
    const worker = await this.o.createWorker();
    this.worker = worker;
    const running = worker.run();
    // A worker that ends by itself (it failed) must not keep the lease with nobody polling the Region's queue.
    let ended = false;
    void running.then(
      () => ((ended = true), this.wake?.()),
      () => ((ended = true), this.wake?.()),
    );
    while (!this.stopped && !ended && this.held && (!this.o.after || this.o.after.held)) {
      await this.pause(this.o.renewEveryMs ?? RENEW_EVERY_MS);
      if (!this.stopped && !ended && !(await this.renew()) && !this.held) break;
    }
    // An earlier lease was lost, or this Region's worker ended: give this one up (the loop asks again).
    const yielded = !this.stopped && (this.held || ended);
    if (!this.stopped) {
      this.stats.lost++;
      this.o.log?.(`write lease of ${this.o.region}: lost; stopping this process's ${this.o.region} activities`);
    }
    if (worker.getState() === 'RUNNING') worker.shutdown();
    await running.catch((err: unknown) => this.o.log?.(`worker of ${this.o.region} ended: ${(err as Error).message}`));
    this.worker = undefined;
    // Activities finished (shutdown waits for them): the next holder may start at once (after its quiet pause).
    if (this.stopped || yielded) await this.release();
    this.validUntil = 0;
  }

  private async release(): Promise<void> {
    this.validUntil = 0;
    await this.client.workflow
      .getHandle(this.id)
      .signal(releaseWriteLeaseSignal, { holder: this.holder })
      .catch(() => undefined);
  }

  /** Stop: finish the running activities, release the lease, end the loop. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    if (this.worker?.getState() === 'RUNNING') this.worker.shutdown();
    await this.done;
    this.removeGate();
  }
}

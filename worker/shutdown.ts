/**
 * `secrets-dr worker`'s shutdown on SIGTERM/SIGINT, bounded: Region workers drain first (their activities, then
 * their write leases' release), then the workflow workers (worker/worker.ts `shutdown`). Running activities get
 * `activityGraceMs(limit)` (half the limit) to finish; then the SDK cancels them, their AWS calls abort
 * (activities/cancellation.ts) and their attempts are reported, so Temporal retries each elsewhere at once:
 * - progress is logged every PROGRESS_MS, naming what it waits for and the activities still running;
 * - at `limitMs` after the first signal (its own timer, not a progress tick) the process exits 1, naming the
 *   activities it leaves (one that did not end on its cancellation): for Temporal that is a crash, and each is
 *   retried by its retry policy once its heartbeat or start-to-close timeout passes (a monitor probe is not: the
 *   next cycle probes again);
 * - a second signal exits at once, unless it comes within REPEAT_MS of the first: one Ctrl-C reaches the process
 *   twice under npm/npx (which forwards it) and from the terminal's process group;
 * - a signal during the start is kept, and the shutdown runs as soon as the workers exist.
 */
import type { Log } from './log.js';
import type { RunningWorkers } from './worker.js';

const PROGRESS_MS = 10_000;
const REPEAT_MS = 1_000;

/** How long a shutdown lets running activities finish before they are cancelled: half its limit. */
export function activityGraceMs(limitMs: number): number {
  return Math.floor(limitMs / 2);
}

type Drainable = Pick<RunningWorkers, 'shutdown' | 'shutdownStage' | 'inFlight'>;

export class BoundedShutdown {
  private since: number | undefined;
  private lastSignalAt = 0;
  private running: Drainable | undefined;
  private deadline: NodeJS.Timeout | undefined;
  private progress: NodeJS.Timeout | undefined;
  private disposed = false;

  constructor(
    private readonly limitMs: number,
    private readonly log: Log,
    private readonly exit: (code: number) => void = (code) => process.exit(code),
  ) {}

  /** The process's SIGINT/SIGTERM listener. */
  readonly onSignal = (signal: NodeJS.Signals): void => {
    if (this.disposed) return; // drained: the process is closing its connection and ends by itself
    const now = performance.now();
    if (this.since === undefined) {
      this.since = now;
      this.lastSignalAt = now;
      this.deadline = setTimeout(() => this.giveUp(`shutdown did not finish in ${this.limitMs} ms (SECRETS_DR_SHUTDOWN_TIMEOUT_MS)`), this.limitMs);
      this.progress = setInterval(() => {
        const s = Math.round((performance.now() - this.since!) / 1000);
        this.log('info', `secrets-dr worker: still shutting down after ${s} s: ${this.waitingFor()}`);
      }, PROGRESS_MS);
      this.log(
        'info',
        `secrets-dr worker: shutting down on ${signal} (finishing running activities: ${this.activities()}; they are cancelled after ${activityGraceMs(this.limitMs)} ms; the process exits after at most ${this.limitMs} ms, or send it again to exit now)`,
      );
      if (this.running) void this.running.shutdown();
      return;
    }
    const repeat = now - this.lastSignalAt < REPEAT_MS;
    this.lastSignalAt = now;
    if (!repeat) this.giveUp(`a second ${signal} during shutdown`);
  };

  /** The workers exist: a signal that came while they started shuts them down now. */
  attach(running: Drainable): void {
    this.running = running;
    if (this.since !== undefined) void running.shutdown();
  }

  /** The process ends by itself (drained, or failed): no exit of ours after it. */
  dispose(): void {
    this.disposed = true;
    clearTimeout(this.deadline);
    clearInterval(this.progress);
  }

  private activities(): string {
    return this.running ? this.running.inFlight.describe() : 'the workers are still starting';
  }

  private waitingFor(): string {
    return this.running ? `waiting for ${this.running.shutdownStage()}; ${this.activities()}` : 'the workers are still starting';
  }

  private giveUp(why: string): void {
    this.dispose();
    this.log(
      'error',
      `secrets-dr worker: ${why}; exiting with work unfinished (${this.activities()}). Each activity left is retried by its retry policy once its heartbeat or start-to-close timeout passes`,
      {
        activities: (this.running?.inFlight.list() ?? []).map(({ type, region, workflowId, attempt }) => ({ type, region, workflowId, attempt })),
      },
    );
    this.exit(1);
  }
}

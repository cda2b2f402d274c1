/**
 * The activities this process runs now, for a shutdown that must say what it waits for: a SIGTERM lets them run
 * for a grace time, then cancels them (activities/cancellation.ts); the worker command names them while it waits
 * and, should one outlive the limit, when it gives up (cli/commands/worker.ts, worker/shutdown.ts).
 */
import type { ActivityInterceptorsFactory } from '@temporalio/worker';

interface InFlightActivity {
  type: string;
  region: string;
  workflowId: string;
  attempt: number;
  startedAt: number;
}

export class InFlightActivities {
  private readonly running = new Set<InFlightActivity>();

  interceptor(region: string): ActivityInterceptorsFactory {
    return (ctx) => ({
      inbound: {
        execute: async (input, next) => {
          const info = ctx.info;
          const entry: InFlightActivity = {
            type: info.activityType,
            region,
            workflowId: info.workflowExecution?.workflowId ?? '(no workflow)',
            attempt: info.attempt,
            startedAt: performance.now(),
          };
          this.running.add(entry);
          try {
            return await next(input);
          } finally {
            this.running.delete(entry);
          }
        },
      },
    });
  }

  /** Oldest first. */
  list(): InFlightActivity[] {
    return [...this.running].sort((a, b) => a.startedAt - b.startedAt);
  }

  /** "3 activities running: failoverChunk in eu-west-1 for failover-x (attempt 1, 12 s), …" (at most `max` named). */
  describe(max = 10): string {
    const all = this.list();
    if (all.length === 0) return 'no activity running';
    const now = performance.now();
    const named = all
      .slice(0, max)
      .map((a) => `${a.type} in ${a.region} for ${a.workflowId} (attempt ${a.attempt}, ${Math.round((now - a.startedAt) / 1000)} s)`);
    return `${all.length} ${all.length === 1 ? 'activity' : 'activities'} running: ${named.join(', ')}${all.length > max ? `, and ${all.length - max} more` : ''}`;
  }
}

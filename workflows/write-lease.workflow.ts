/**
 * One Region's write lease: while this workflow runs, the worker process named `holder` is the only one
 * that runs the Region's activities, so its one write governor is the Region's (worker/region-lease.ts).
 * The workflow id is the lock: `writeLeaseWorkflowId(prefix, region)`, started with the FAIL conflict
 * policy, so exactly one process can start it; the others wait for its result and try again.
 *
 * Decisions:
 * - The lease ends `termMs` after it was taken or last renewed, by this workflow's own timer: a holder that
 *   crashed or lost Temporal stops being the holder without anyone's help. The holder's own deadline is
 *   measured from before it asked (start or renew), so it always ends before this timer does.
 * - Renewal is an update (not a signal) so a process that lost the lease hears it: the validator refuses
 *   another holder's renewal (the id may be held by a new run meanwhile).
 * - History stays small: continue-as-new every CONTINUE_AFTER renewals keeps the id (the lock) and the holder.
 */
import { allHandlersFinished, condition, continueAsNew, setHandler } from '@temporalio/workflow';
import { releaseWriteLeaseSignal, renewWriteLeaseUpdate, writeLeaseHolderQuery, type WriteLeaseInput, type WriteLeaseResult } from './write-lease.messages.js';

/** ~6 history events per renewal: 200 renewals stay far below Temporal's limits. */
const CONTINUE_AFTER = 200;

export async function writeLeaseWorkflow(input: WriteLeaseInput): Promise<WriteLeaseResult> {
  let renewed = false;
  let released = false;
  let renewals = input.renewals ?? 0;
  let sinceStart = 0;

  setHandler(
    renewWriteLeaseUpdate,
    () => {
      renewed = true;
      renewals++;
      sinceStart++;
      return { termMs: input.termMs };
    },
    {
      validator: ({ holder }) => {
        if (released) throw new Error(`the write lease of ${input.region} was released`);
        if (holder !== input.holder) throw new Error(`the write lease of ${input.region} is held by ${input.holder}, not ${holder}`);
      },
    },
  );
  setHandler(writeLeaseHolderQuery, () => ({ holder: input.holder, serves: input.serves ?? [] }));
  setHandler(releaseWriteLeaseSignal, ({ holder }) => {
    if (holder === input.holder) released = true;
  });

  for (;;) {
    renewed = false;
    await condition(() => renewed || released, input.termMs);
    // The flags, not condition's result: a renewal that arrived with the timer in one activation still counts.
    if (released) return { holder: input.holder, ended: 'released', renewals };
    if (!renewed) return { holder: input.holder, ended: 'expired', renewals };
    if (sinceStart >= CONTINUE_AFTER) {
      await condition(allHandlersFinished);
      return continueAsNew<typeof writeLeaseWorkflow>({ ...input, renewals });
    }
  }
}

/**
 * The steps of account DR's workflows (setup, failover, failback), each the effect of one machine
 * action: it calls activities on the primary Region's task queue (where both accounts' replicas
 * live), fills the run's outcomes and returns the event that moves the machine on. Decisions stay
 * in the machines; what a step cannot do is a STEP_FAILED event with the reason, never a throw.
 */
import { setHandler, sleep, workflowInfo, type ActivityOptions } from '@temporalio/workflow';
import {
  accountFailoverPath,
  accountRotationNote,
  accountNeedsAttention,
  countAccountOutcomes,
  isPromotable,
  isPromotedCopy,
  type AccountOperationOutcome,
  type AccountOutcome,
  type AccountPairState,
  type AccountProbe,
  type AccountReport,
} from '../domain/account-dr.js';
import { NON_RETRYABLE_ERROR_TYPES } from '../domain/errors.js';
import type { FailoverMode, Plan } from '../domain/plan.js';
import type { AccountActivities } from '../activities/account.activities.js';
import { regionActivities } from './activity-options.js';
import { chunk } from './kit/batch-loop.js';
import { failureMessage } from './kit/failures.js';
import { accountProgressQuery } from './account.messages.js';

const nonRetryableErrorTypes = [...NON_RETRYABLE_ERROR_TYPES];
/** Writes: heartbeat after every AWS call; a crashed worker's attempt is retried (every write is idempotent). */
const WRITE_OPTIONS: ActivityOptions = {
  startToCloseTimeout: '15m',
  heartbeatTimeout: '30s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '15s', maximumAttempts: 20, nonRetryableErrorTypes },
};
/** Reads and probes: an account that does not answer is reported quickly. */
const READ_OPTIONS: ActivityOptions = {
  startToCloseTimeout: '5m',
  heartbeatTimeout: '30s',
  retry: { initialInterval: '500ms', backoffCoefficient: 2, maximumInterval: '5s', maximumAttempts: 3, nonRetryableErrorTypes },
};

interface AccountRunInput {
  plan: Plan;
  accountId: string;
  taskQueuePrefix?: string;
  batchSize?: number;
  pollMs?: number;
}

type Step<E> = Promise<E | { type: 'STEP_FAILED'; reason: string }>;

/** What one account DR run knows (never a value): names, ARNs, version ids, outcomes. */
export class AccountRun {
  readonly workflowId = workflowInfo().workflowId;
  readonly started = new Date();
  readonly region: string;
  readonly write: AccountActivities;
  readonly read: AccountActivities;
  readonly problems: string[] = [];
  readonly warnings: string[] = [];
  /** Final outcome per secret (a later step overwrites an earlier one). */
  readonly outcomes = new Map<string, AccountOutcome>();
  states: AccountPairState[] = [];
  /** Failback: secrets left as they are (both sides changed, policy ask): setup's tail must not touch them. */
  readonly excluded = new Set<string>();
  pending: Array<{ name: string; primaryArn: string; replicaArn: string }> = [];
  primaryProbe: AccountProbe | undefined;
  /** Account failover's fence on the primary account: whether it ran, how many secrets it fenced, which it could not. */
  fenceRan = false;
  fenced = 0;
  readonly fenceFailed: Array<{ name: string; reason: string }> = [];
  /** Failover: secrets neither detached nor promoted (fence failed, not caught up, rotation in flight): their outcome says why. */
  readonly held = new Set<string>();

  constructor(readonly input: AccountRunInput) {
    this.region = input.plan.primaryRegion;
    this.write = regionActivities<AccountActivities>(this.region, input.taskQueuePrefix, WRITE_OPTIONS);
    this.read = regionActivities<AccountActivities>(this.region, input.taskQueuePrefix, READ_OPTIONS);
  }

  get base() {
    return { region: this.region, plan: this.input.plan, accountId: this.input.accountId };
  }
  get batch() {
    return this.input.batchSize ?? 50;
  }
  /** Records outcomes; a failback's copied-back/kept-primary stays the outcome once that secret is InSync again. */
  settle(list: readonly AccountOutcome[]): number {
    for (const o of list) {
      const prev = this.outcomes.get(o.name);
      if (prev && (prev.status === 'copied-back' || prev.status === 'kept-primary') && o.status === 'in-sync')
        this.outcomes.set(o.name, { ...prev, reason: 're-associated; InSync' });
      else this.outcomes.set(o.name, o);
    }
    return list.filter(accountNeedsAttention).length;
  }
  /** Runs `step`, turning a failure into the machine's STEP_FAILED event. */
  async guarded<E>(what: string, step: () => Promise<E>): Step<E> {
    try {
      return await step();
    } catch (err) {
      return { type: 'STEP_FAILED', reason: `${what}: ${failureMessage(err)}` };
    }
  }

  report(outcome: AccountOperationOutcome, failure?: string): AccountReport {
    const outcomes = [...this.outcomes.values()].sort((a, b) => a.name.localeCompare(b.name));
    return {
      plan: this.input.plan.name,
      accountId: this.input.accountId,
      region: this.region,
      workflowId: this.workflowId,
      outcome,
      problems: failure ? [...this.problems, failure] : [...this.problems],
      warnings: [...this.warnings],
      counts: countAccountOutcomes(outcomes),
      attention: outcomes.filter(accountNeedsAttention),
      outcomes,
      startedAt: this.started.toISOString(),
      durationMs: Date.now() - this.started.getTime(),
    };
  }
}

// ---- setup (and failback's tail) ----

export function inspect(run: AccountRun): Step<{ type: 'INSPECTED'; toSetUp: number }> {
  return run.guarded('inspecting both accounts', async () => {
    const states = await run.read.inspectAccountPairs({ ...run.base, primaryAnswers: true });
    const inSync = (s: AccountPairState) => s.replica === 'replica' && s.primaryView === 'InSync';
    run.settle(states.filter((s) => !run.excluded.has(s.name) && inSync(s)).map((s) => ({ name: s.name, status: 'in-sync' as const })));
    run.states = states.filter((s) => !run.excluded.has(s.name) && !inSync(s));
    return { type: 'INSPECTED', toSetUp: run.states.length };
  });
}

export function createReplicas(run: AccountRun): Step<{ type: 'REPLICAS_CREATED'; attention: number }> {
  return run.guarded('creating the replicas', async () => {
    let attention = 0;
    run.pending = [];
    for (const items of chunk(run.states, run.batch)) {
      const ensured = await run.write.ensureCrossAccountReplicas({ ...run.base, items, workflowId: run.workflowId });
      for (const e of ensured) {
        const primaryArn = items.find((i) => i.name === e.name)?.primaryArn;
        if (e.outcome) attention += run.settle([e.outcome]);
        else if (e.replicaArn && primaryArn) run.pending.push({ name: e.name, primaryArn, replicaArn: e.replicaArn });
        if (e.backups?.length)
          run.warnings.push(
            `${e.name}: the same-name secret in account ${run.input.accountId} was backed up as ${e.backups.map((b) => b.name).join(', ')} before it was replaced`,
          );
      }
    }
    return { type: 'REPLICAS_CREATED', attention };
  });
}

export function associate(run: AccountRun): Step<{ type: 'ASSOCIATED'; attention: number }> {
  return run.guarded('associating the replicas', async () => {
    let attention = 0;
    const next: typeof run.pending = [];
    for (const items of chunk(run.pending, run.batch)) {
      const outcomes = await run.write.associateCrossAccountReplicas({ ...run.base, items });
      for (const o of outcomes) {
        if (o.status === 'failed') attention += run.settle([o]);
        else if (o.status === 'in-sync') run.settle([o]);
        else next.push(items.find((i) => i.name === o.name)!);
      }
    }
    run.pending = next;
    return { type: 'ASSOCIATED', attention };
  });
}

/** Polls the pending replicas until InSync or Failed, bounded by the plan's setup.inSyncTimeout. */
export function awaitInSync(run: AccountRun): Step<{ type: 'SETTLED'; attention: number }> {
  return run.guarded('waiting for InSync', async () => {
    const deadline = Date.now() + run.input.plan.setup.inSyncTimeout;
    while (run.pending.length && Date.now() < deadline) {
      await sleep(run.input.pollMs ?? 2_000);
      const states = await run.read.inspectAccountPairs({ ...run.base, names: run.pending.map((p) => p.name), primaryAnswers: true });
      const settled = new Set<string>();
      for (const s of states) {
        const status = s.primaryView ?? s.replicaView;
        if (status === 'InSync') run.settle([{ name: s.name, status: 'in-sync' }]);
        if (status === 'Failed') run.settle([{ name: s.name, status: 'failed', reason: `replication Failed: ${s.statusMessage ?? 'no message'}` }]);
        if (status === 'InSync' || status === 'Failed') settled.add(s.name);
      }
      run.pending = run.pending.filter((p) => !settled.has(p.name));
    }
    for (const p of run.pending)
      run.settle([{ name: p.name, status: 'associated', reason: `not InSync within setup.inSyncTimeout; run setup again to repair` }]);
    return { type: 'SETTLED', attention: [...run.outcomes.values()].filter(accountNeedsAttention).length };
  });
}

// ---- failover ----

export function failoverPreflight(
  run: AccountRun,
  mode: FailoverMode | undefined,
): Step<{ type: 'PREFLIGHT_DONE'; problems: string[]; primaryAnswers: boolean; toPromote: number }> {
  return run.guarded('preflight', async () => {
    run.problems.length = 0;
    const [primary, recovery] = await Promise.all([
      run.read.probeAccount({ region: run.region, plan: run.input.plan }),
      run.read.probeAccount({ ...run.base }),
    ]);
    run.primaryProbe = primary;
    if (recovery.reach !== 'answers')
      run.problems.push(
        `the recovery account ${run.input.accountId} ${recovery.reach === 'denied' ? 'refused' : 'did not answer'}: ${recovery.error ?? ''} ${recovery.message ?? ''}`.trim(),
      );
    const route = accountFailoverPath(primary, mode);
    if (route.problem) run.problems.push(route.problem);
    const primaryAnswers = route.path === 'planned';
    const unplanned = `the primary account: ${primary.reach}${primary.error ? ` (${primary.error})` : ''}; unplanned: promoting the replicas as they stand`;
    if (route.path === 'unplanned' && !run.warnings.includes(unplanned)) run.warnings.push(unplanned); // preflight runs again after the gate
    if (run.problems.length) return { type: 'PREFLIGHT_DONE', problems: [...run.problems], primaryAnswers, toPromote: 0 };
    run.states = await run.read.inspectAccountPairs({ ...run.base, primaryAnswers });
    const toPromote = run.states.filter(isPromotable);
    for (const s of run.states.filter((x) => !toPromote.includes(x)))
      run.settle([
        { name: s.name, status: 'failed', reason: `no cross-account replica in account ${run.input.accountId} (${s.replica}): run setup --account first` },
      ]);
    if (toPromote.length === 0) run.problems.push(`no replica of plan ${run.input.plan.name} found in account ${run.input.accountId}: nothing to fail over`);
    return { type: 'PREFLIGHT_DONE', problems: [...run.problems], primaryAnswers, toPromote: toPromote.length };
  });
}

/** The pairs a planned failover still means to cut: promotable replicas, not held back by an earlier step. */
const linksToCut = (run: AccountRun) =>
  run.states.flatMap((s) =>
    s.replica === 'replica' && s.primaryArn && s.replicaArn && !run.held.has(s.name)
      ? [{ name: s.name, primaryArn: s.primaryArn, replicaArn: s.replicaArn }]
      : [],
  );

type Readiness = { name: string; rotationPending?: string; caughtUp: boolean; reason?: string };

/**
 * Polls `checkAccountCutReadiness` over the links still to cut until `ready` holds for each or `ms` has passed; what is
 * still not ready is held back (neither detached nor promoted) with the outcome `why` gives.
 */
async function pollUntilReady(run: AccountRun, ms: number, ready: (r: Readiness) => boolean, why: (r: Readiness) => string): Promise<number> {
  const deadline = Date.now() + ms;
  let waiting = linksToCut(run);
  let last: Readiness[] = [];
  for (;;) {
    last = [];
    for (const items of chunk(waiting, run.batch)) last.push(...(await run.read.checkAccountCutReadiness({ ...run.base, items })));
    const notReady = new Set(last.filter((r) => !ready(r)).map((r) => r.name));
    waiting = waiting.filter((w) => notReady.has(w.name));
    if (waiting.length === 0 || Date.now() >= deadline) break;
    await sleep(Math.min(run.input.pollMs ?? 2_000, Math.max(1, deadline - Date.now())));
  }
  for (const r of last.filter((x) => !ready(x))) {
    run.held.add(r.name);
    run.settle([{ name: r.name, status: 'failed', reason: why(r) }]);
  }
  return waiting.length;
}

/** Planned: a rotation in flight on a primary is waited for (bounded) before the fence, which would refuse its last steps; still rotating: not promoted. */
export function settleRotations(run: AccountRun, waitMs: number): Step<{ type: 'ROTATIONS_SETTLED'; attention: number }> {
  return run.guarded('waiting for rotations in flight', async () => {
    const attention = await pollUntilReady(
      run,
      waitMs,
      (r) => r.rotationPending === undefined,
      (r) =>
        `not promoted: a rotation in flight on the primary (AWSPENDING on version ${r.rotationPending}) did not finish within ${Math.round(waitMs / 1000)} s; let it finish (or cancel it) and run the failover again, or --mode unplanned to promote the replica as it stands`,
    );
    return { type: 'ROTATIONS_SETTLED', attention };
  });
}

/**
 * Planned, after the fence and before the detach: each replica must hold what its primary held when it was fenced
 * (a write accepted just before the fence is still on its way), bounded by setup.inSyncTimeout. What does not catch up
 * is not detached nor promoted: it stays fenced on the primary, its outcome says so and what to do.
 */
export function catchUp(run: AccountRun): Step<{ type: 'CAUGHT_UP'; attention: number }> {
  return run.guarded('waiting for the replicas to catch up', async () => {
    const attention = await pollUntilReady(
      run,
      run.input.plan.setup.inSyncTimeout,
      (r) => r.caughtUp,
      (r) =>
        `not promoted: ${r.reason ?? 'not caught up'} within setup.inSyncTimeout; the primary ${run.fenceRan ? 'stays fenced' : 'is unchanged'}: run the failover again once replication is InSync (it converges), or --mode unplanned to promote the replica as it stands`,
    );
    return { type: 'CAUGHT_UP', attention };
  });
}

/** Planned account failover: fence each primary before its replica is detached and promoted; a secret not fenced is neither (it needs attention). */
export function fencePrimaries(run: AccountRun): Step<{ type: 'FENCED'; attention: number }> {
  return run.guarded('fencing the primary account', async () => {
    run.fenceRan = true;
    const items = run.states.flatMap((s) => (isPromotable(s) && s.primaryArn && !run.held.has(s.name) ? [{ name: s.name, primaryArn: s.primaryArn }] : []));
    for (const batch of chunk(items, run.batch)) {
      for (const o of await run.write.fenceAccountPrimaries({ ...run.base, items: batch, workflowId: run.workflowId })) {
        if (o.status !== 'failed') run.fenced++;
        else {
          // Planned: promoting an unfenced secret leaves two writable copies; it stays a replica, and the report says why.
          run.fenceFailed.push({ name: o.name, reason: o.reason ?? 'not fenced' });
          run.held.add(o.name);
          run.settle([
            {
              name: o.name,
              status: 'failed',
              reason: `not promoted: fence failed (${o.reason ?? 'not fenced'}); fix the primary's permissions and run the failover again, or --mode unplanned to promote it unfenced`,
            },
          ]);
        }
      }
    }
    return { type: 'FENCED', attention: run.fenceFailed.length };
  });
}

export function detach(run: AccountRun): Step<{ type: 'DETACHED'; attention: number }> {
  return run.guarded('detaching', async () => {
    for (const batch of chunk(linksToCut(run), run.batch)) {
      for (const o of await run.write.detachCrossAccountReplicas({ ...run.base, items: batch }))
        if (o.status === 'failed') run.warnings.push(`${o.name}: not detached from the primary (${o.reason}); promoted anyway`);
    }
    // A detach that did not happen is a warning, not attention: StopReplicationToReplica cuts the link from the recovery side.
    return { type: 'DETACHED', attention: 0 };
  });
}

export function promote(run: AccountRun): Step<{ type: 'PROMOTED'; attention: number }> {
  return run.guarded('promoting', async () => {
    const names = run.states.filter((s) => isPromotable(s) && !run.held.has(s.name)).map((s) => s.name);
    let attention = 0;
    const rotating = new Map(run.states.flatMap((s) => (s.rotationPending ? [[s.name, s.rotationPending] as const] : [])));
    for (const batch of chunk(names, run.batch)) {
      const outcomes = await run.write.promoteCrossAccountReplicas({
        ...run.base,
        names: batch,
        workflowId: run.workflowId,
        promotedAt: run.started.toISOString(),
      });
      attention += run.settle(
        outcomes.map((o) => {
          const pending = rotating.get(o.name);
          // Unplanned (planned ones were waited for): promoted as it stands; the report says what the rotation means and what to do.
          return pending && o.status === 'promoted' ? { ...o, reason: accountRotationNote(pending, false) } : o;
        }),
      );
    }
    return { type: 'PROMOTED', attention };
  });
}

/** Describe, don't assume: each promoted secret must now be standalone in the recovery account. */
export function verify(run: AccountRun): Step<{ type: 'VERIFIED'; attention: number }> {
  return run.guarded('verifying', async () => {
    const names = [...run.outcomes.values()].filter((o) => o.status === 'promoted' || o.status === 'already-standalone').map((o) => o.name);
    let attention = 0;
    for (const batch of chunk(names, 200)) {
      for (const s of await run.read.inspectAccountPairs({ ...run.base, names: batch, primaryAnswers: false })) {
        if (s.replica !== 'standalone')
          attention += run.settle([{ name: s.name, status: 'failed', reason: `still ${s.replica} in account ${run.input.accountId} after promotion` }]);
      }
    }
    return { type: 'VERIFIED', attention };
  });
}

// ---- failback ----

export function failbackPreflight(run: AccountRun): Step<{ type: 'PREFLIGHT_DONE'; problems: string[] }> {
  return run.guarded('preflight', async () => {
    run.problems.length = 0; // runs again after the approval gate
    const [primary, recovery] = await Promise.all([
      run.read.probeAccount({ region: run.region, plan: run.input.plan }),
      run.read.probeAccount({ ...run.base }),
    ]);
    for (const [who, p] of [
      ['the primary account', primary],
      [`the recovery account ${run.input.accountId}`, recovery],
    ] as const) {
      if (p.reach !== 'answers')
        run.problems.push(`${who} ${p.reach === 'denied' ? 'refused our credentials' : 'did not answer'} (${p.error ?? p.reach}): failback needs both`);
    }
    if (run.problems.length === 0) {
      const states = await run.read.inspectAccountPairs({ ...run.base, primaryAnswers: false });
      run.states = states.filter(isPromotedCopy);
    }
    return { type: 'PREFLIGHT_DONE', problems: [...run.problems] };
  });
}

export function reconcile(run: AccountRun): Step<{ type: 'RECONCILED'; attention: number }> {
  return run.guarded('reconciling', async () => {
    let attention = 0;
    for (const batch of chunk(
      run.states.map((s) => s.name),
      run.batch,
    )) {
      const outcomes = await run.write.reconcileAccountSecrets({ ...run.base, names: batch, workflowId: run.workflowId });
      for (const o of outcomes) if (o.status === 'conflict' || o.status === 'failed') run.excluded.add(o.name);
      attention += run.settle(outcomes);
    }
    // Primaries our failover fenced but did not promote (it failed, or held them back): writable again, then re-associated.
    for (const name of await run.write.liftStrandedAccountFences(run.base))
      run.warnings.push(`${name}: the account failover's fence on the primary was lifted (its recovery copy was never promoted); re-associated below`);
    return { type: 'RECONCILED', attention };
  });
}

/** The progress query of an account workflow: its machine's state and the counts so far (no values). */
export function answerProgress(run: AccountRun, state: () => string): void {
  setHandler(accountProgressQuery, () => ({
    workflowId: run.workflowId,
    accountId: run.input.accountId,
    state: state(),
    counts: run.report('partial').counts,
  }));
}

/**
 * Failback's steps up to reconciliation, each the effect of one machine action: preflight (every
 * failover since the last failback, both sides described, per-secret decisions), the fleet-wide
 * approval gate, and reconciliation — with the per-secret asks answered while the rest proceeds.
 */
import { condition, getExternalWorkflowHandle } from '@temporalio/workflow';
import { answerToResolution, resolve, type FailbackItem } from '../domain/failback.js';
import { fenceWorkflowId } from '../domain/ids.js';
import type { FailoverActivities } from '../activities/failover.activities.js';
import { regionActivities } from './activity-options.js';
import { INSPECT_OPTIONS } from './failover-options.js';
import type { FailbackEvent } from './machines/failback.machine.js';
import type { FailbackRun } from './failback.run.js';
import { runPhase } from './failback-phase.js';
import type { ControlState } from './kit/batch-loop.js';
import { failureMessage } from './kit/failures.js';

/** Names in scope per page of findFailoverLineage: one payload stays far below Temporal's 256 KB at any fleet size. */
const LINEAGE_PAGE = 2_000;

/** findFailoverLineage in one DR Region, its names page by page (a result recorded before paging holds them all). */
async function findLineage(run: FailbackRun, region: string) {
  const { plan, input } = run;
  const ask = (namesFrom: number) =>
    run.side(region).findFailoverLineage({
      planName: plan.name,
      ...(input.failoverId ? { failoverId: input.failoverId } : {}),
      namesFrom,
      namesLimit: LINEAGE_PAGE,
    });
  const first = await ask(0);
  const names = new Set(first.names);
  for (let from = first.names.length; first.namesTotal !== undefined && from < first.namesTotal;) {
    const page = await ask(from);
    if (page.names.length === 0) break; // records changed between pages: what was read is what is reconciled (the rest, next time)
    for (const n of page.names) names.add(n);
    from += page.names.length;
  }
  return { ...first, names: [...names] };
}

export async function runPreflight(run: FailbackRun, control: () => ControlState): Promise<FailbackEvent> {
  const { plan, from, reverse, input, problems, warnings } = run;
  // Every failover since the last failback (per secret: since the failback that verified it), in every DR Region.
  const found = await Promise.all(
    plan.drRegions.map(({ region }) =>
      findLineage(run, region).catch((err) => (warnings.push(`${region} does not answer: ${failureMessage(err)}`), undefined)),
    ),
  );
  const open = found.filter((f): f is NonNullable<typeof f> => f !== undefined && f.names.length > 0).sort((a, b) => b.names.length - a.names.length);
  if (open.length === 0) {
    problems.push(
      `no failover lineage of plan ${plan.name} found in ${plan.drRegions.map((d) => d.region).join(', ')}${input.failoverId ? ` for failover ${input.failoverId}` : ''} since the last failback: failback needs the lineage failover records at promotion`,
    );
    return { type: 'PREFLIGHT_DONE', problems: [...problems], total: 0 };
  }
  run.to = open[0]!.region;
  run.failovers = open.flatMap((f) => f.failovers).sort((a, b) => (a.failoverId < b.failoverId ? -1 : a.failoverId > b.failoverId ? 1 : 0));
  run.failoverId = run.failovers.at(-1)?.failoverId;
  for (const f of open) run.records.set(f.region, f.records);
  for (const f of run.failovers)
    if (f.from && f.from !== from) problems.push(`failover ${f.failoverId} went from ${f.from}, but the plan's primaryRegion is ${from}`);
  for (const f of run.failovers)
    if (!f.hmacs) warnings.push(`failover ${f.failoverId} recorded lineage without HMACs: changes are told apart by version id only`);
  if (reverse && open.length > 1)
    problems.push(
      `--reverse keeps one DR Region as the primary, but failovers since the last failback went to ${open.map((f) => f.region).join(' and ')}: fail back without --reverse first`,
    );
  // The original Region must answer before anything is decided (describe both sides).
  try {
    await regionActivities<FailoverActivities>(from, input.taskQueuePrefix, INSPECT_OPTIONS).inspectFleet({ plan, region: from, maxPages: 1 });
  } catch (err) {
    problems.push(`the original primary Region ${from} does not answer: ${failureMessage(err)} (fail back once it is healthy)`);
  }
  if (problems.length === 0) {
    // Promoted in two DR Regions since the last failback: which copy wins is a person's call.
    const regionsOf = new Map<string, string[]>();
    for (const f of open) for (const n of f.names) regionsOf.set(n, [...(regionsOf.get(n) ?? []), f.region]);
    const twice = [...regionsOf].filter(([, r]) => r.length > 1);
    run.merge(
      twice.map(([name, r]) => ({
        name,
        change: 'blocked' as const,
        resolution: 'skip' as const,
        status: 'skipped' as const,
        reason: `promoted in ${r.join(' and ')} since the last failback: keep one copy (back up the other), then run failback again`,
      })),
    );
    for (const f of open)
      await runPhase(
        run,
        'plan',
        f.names.filter((n) => regionsOf.get(n)!.length === 1),
        { control, dr: f.region },
      );
    run.items.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    // Never silently the AWS managed key: say which replicas get it (the plan names no key for the Region and the secret had none).
    const managed = run.items.filter((i) => !i.kmsKeyId && i.resolution !== 'skip' && i.resolution !== 'verify');
    if (managed.length > 0) {
      const where = reverse ? from : [...new Set(managed.map((i) => i.dr ?? run.to))].join(', ');
      warnings.push(
        `${managed.length} secret(s) will be replicated into ${where} with the AWS managed key aws/secretsmanager: the plan names no key for that Region (${reverse ? 'primaryKmsKeyId' : 'drRegions[].kmsKeyId'}) and they had none there (${managed
          .slice(0, 5)
          .map((i) => i.name)
          .join(', ')}${managed.length > 5 ? ', ...' : ''})`,
      );
    }
    if (!input.dryRun) {
      // A pending fence still waiting for the original Region would fence again after unfencing: it is not needed any more.
      await getExternalWorkflowHandle(fenceWorkflowId(plan.name, from))
        .cancel()
        .catch(() => undefined);
    }
  }
  return { type: 'PREFLIGHT_DONE', problems: [...problems], total: run.items.length };
}

/** The plan's fleet-wide gate; `stillWanted` turns false when the machine left it (cancelled). */
export async function requestApproval(run: FailbackRun, stillWanted: () => boolean): Promise<FailbackEvent | undefined> {
  const { from, to, reverse } = run;
  const subject = `${reverse ? `${to} stays primary, replicating into ${from}` : `${to} → ${from}`} (${run.items.length} secrets)`;
  return run.requestApproval('failback', subject, from, stillWanted);
}

/** Secrets that need nobody are reconciled while the asked ones wait for their answer (or a cancel). */
export async function reconcile(run: FailbackRun, control: () => ControlState): Promise<FailbackEvent> {
  const { plan, from, workflowId } = run;
  const timeoutMs = plan.failback.approvalTimeout;
  for (const i of run.withStatus('awaiting-approval')) {
    run.asks.set(i.name, { subject: i.name, change: i.change, requestedAt: new Date().toISOString(), timeoutMs });
    await run.publish(from, {
      detailType: 'Approval Requested',
      detail: { plan: plan.name, workflowId, step: `failback-${i.change}`, timeoutMs, subject: i.name },
    });
  }
  const direct = runPhase(
    run,
    'reconcile',
    run.withStatus('planned').filter((i) => i.resolution !== 'verify'),
    // Each chunk goes on through verification: its re-replication overlaps the next chunk's reconciliation.
    { control, through: 'verify' },
  );
  const asked = run.asks.size > 0 ? condition(() => run.openAsks().length === 0 || control().cancelRequested, timeoutMs) : Promise.resolve(true);
  await Promise.all([direct, asked]);
  const answered: FailbackItem[] = [];
  for (const i of run.withStatus('awaiting-approval')) {
    const a = run.answers.get(i.name);
    if (!a) {
      const why = control().cancelRequested ? 'failback cancelled before an answer' : `no answer within ${Math.round(timeoutMs / 60_000)} min`;
      run.merge([{ ...i, status: 'skipped', reason: `${why}: left as it is (still standalone in ${run.to}, still fenced in ${from})` }]);
    } else if (a.decision === 'reject')
      run.merge([{ ...i, resolution: 'skip', status: 'skipped', reason: `rejected${a.by ? ` by ${a.by}` : ''}: ${a.reason ?? ''} (left as it is)` }]);
    else answered.push({ ...resolve(i, run.askFacts.get(i.name)!, answerToResolution(a.decision, a.reason)), status: 'planned' });
  }
  if (answered.length) {
    run.merge(answered);
    await runPhase(run, 'reconcile', answered, { control, tag: 'reconcile-answered' });
  }
  for (const i of run.withStatus('planned')) {
    if (i.resolution !== 'verify') continue;
    if (control().cancelRequested)
      run.merge([
        {
          ...i,
          status: 'skipped',
          reason: `failback cancelled before this secret was failed back: left as it is (still standalone in ${i.dr ?? run.to}, still fenced in ${from}); run failback again`,
        },
      ]);
    else run.merge([{ ...i, status: 'reconciled' }]);
  }
  return { type: 'RECONCILED', ready: run.count('reconciled', 'replicating', 'in-sync', 'verified'), attention: run.count('failed', 'skipped') };
}

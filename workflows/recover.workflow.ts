/**
 * recover (EventBridge-driven, id `secrets-dr/<plan>/recover`): hints arrive as signals (receiver
 * or Lambda: signal-with-start; the monitor: signal or child start). The recover machine decides;
 * this file runs its effects: probes of every Region (the primary's N consecutive failures confirm
 * the outage), the veto window, the approval gate, and the failover itself — started as an
 * abandoned child with id `failoverWorkflowId(plan)`, so a failover already running (a runbook, a
 * second trigger) is attached to, never duplicated. Effects answer with events stamped with the
 * phase they were started in; an answer from an older phase (a veto timer after a veto) is dropped.
 * Finishes after `idleTimeoutMs` without hints; continues-as-new (bounded dedup memory) when long.
 */
import {
  ParentClosePolicy,
  condition,
  continueAsNew,
  log,
  setHandler,
  sleep,
  startChild,
  workflowInfo,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { initialTransition, transition, type AnyEventObject } from 'xstate';
import type { EventActivities } from '../activities/events.activities.js';
import type { MonitorActivities } from '../activities/monitor.activities.js';
import type { FailoverActivities } from '../activities/failover.activities.js';
import { ApprovalDecision, type PendingApproval } from '../domain/approval.js';
import { failoverWorkflowId, workflowTaskQueue } from '../domain/ids.js';
import { answeredProbeReason, type RegionSurvey } from '../domain/health.js';
import { planRegions } from '../domain/plan.js';
import { HINTS_PER_RUN, RecoverInput, VetoRequest, type RecoverPhase, type RecoverStatus } from '../domain/recover.js';
import { regionActivities } from './activity-options.js';
import { recoverMachine, type RecoverEvent } from './machines/recover.machine.js';
import { recoverHintSignal, recoverStatusQuery, recoverVetoUpdate } from './recover.messages.js';
import { approvalUpdate as recoverApprovalUpdate, pendingApprovalQuery as recoverPendingApprovalQuery } from './setup.messages.js';
import { failureText } from './setup-support.js';
import type { failoverWorkflow } from './failover.workflow.js';

const PROBE_OPTIONS = { startToCloseTimeout: '1m', retry: { maximumAttempts: 1 } } as const;
const PUBLISH_OPTIONS = { startToCloseTimeout: '30s', retry: { initialInterval: '500ms', maximumAttempts: 3 } } as const;

export async function recoverWorkflow(raw: RecoverInput): Promise<RecoverStatus> {
  const input = RecoverInput.parse(raw);
  const { plan, taskQueuePrefix: prefix, carry } = input;
  const info = workflowInfo();
  const nowIso = () => new Date().toISOString();
  const vetoWindowMs = input.vetoWindowMs ?? plan.failover.vetoWindow ?? plan.health.interval;
  const idleTimeoutMs = input.idleTimeoutMs ?? Math.max(plan.failover.minDelayBetweenFailovers, 3_600_000);

  let [snap] = initialTransition(recoverMachine, {
    unhealthyAfter: plan.health.unhealthyAfter,
    automatic: plan.failover.automatic,
    minDelayMs: plan.failover.minDelayBetweenFailovers,
    ...(carry ? { ...carry, lastFailoverAtMs: carry.lastFailoverAt ? Date.parse(carry.lastFailoverAt) : undefined } : {}),
  });
  const phase = () => snap.value as RecoverPhase;
  let token = 0; // bumped on every phase change
  const queue: Array<{ event: RecoverEvent; token?: number }> = [];
  const push = (event: RecoverEvent, t?: number): void => {
    queue.push({ event, token: t });
  };
  let pending: PendingApproval | null = null;
  let failoverId: string | undefined;
  let vetoWindowEndsAt: string | undefined;

  setHandler(recoverHintSignal, (hint) => {
    push({ type: 'HINT', hint, at: nowIso() });
  });
  setHandler(
    recoverVetoUpdate,
    (req) => {
      push({ type: 'VETO', at: nowIso(), by: req?.by, reason: req?.reason });
      return { vetoed: true as const };
    },
    {
      validator: (req) => {
        VetoRequest.parse(req ?? {});
        if (phase() !== 'vetoWindow') throw new Error(`no veto window is open (recover is ${phase()})`);
      },
    },
  );
  setHandler(
    recoverApprovalUpdate,
    (d) => {
      pending = null;
      push(d.decision === 'approve' ? { type: 'APPROVED', at: nowIso(), by: d.by } : { type: 'REJECTED', at: nowIso(), by: d.by, reason: d.reason });
      return { accepted: true as const, decision: d.decision };
    },
    {
      validator: (d) => {
        ApprovalDecision.parse(d);
        if (phase() !== 'awaitingApproval') throw new Error(`not waiting for approval (recover is ${phase()})`);
      },
    },
  );
  const status = (): RecoverStatus => ({
    plan: plan.name,
    phase: phase(),
    hints: snap.context.hints,
    duplicates: snap.context.duplicates,
    failovers: snap.context.failovers,
    lastHint: snap.context.lastHint,
    failedProbes: snap.context.failedProbes,
    lastFailoverAt: snap.context.lastFailoverAtMs !== undefined ? new Date(snap.context.lastFailoverAtMs).toISOString() : undefined,
    failoverWorkflowId: failoverId ?? snap.context.lastFailoverId,
    ...(snap.context.target ? { target: snap.context.target } : {}),
    ...(phase() === 'vetoWindow' && vetoWindowEndsAt ? { vetoWindowEndsAt } : {}),
    journal: snap.context.journal,
  });
  setHandler(recoverStatusQuery, status);
  setHandler(recoverPendingApprovalQuery, () => pending);
  if (input.hint) push({ type: 'HINT', hint: input.hint, at: nowIso() });

  const acts = (region: string) => regionActivities<MonitorActivities>(region, prefix, PROBE_OPTIONS);
  const publisher = (region: string) => regionActivities<EventActivities>(region, prefix, PUBLISH_OPTIONS);

  /** Plan secrets in `region` that are still replicas of the primary; undefined when it cannot tell. */
  async function replicasLeft(region: string): Promise<number | undefined> {
    const inspect = regionActivities<FailoverActivities>(region, prefix, PROBE_OPTIONS);
    try {
      let count = 0;
      let nextToken: string | undefined;
      do {
        const page = await inspect.inspectFleet({ plan, region, nextToken, maxPages: 20, onlyReplicas: true });
        count += page.entries.filter((e) => e.primaryRegion === plan.primaryRegion && !e.deleted).length;
        nextToken = page.nextToken;
      } while (nextToken);
      return count;
    } catch {
      return undefined; // cannot tell: start (or attach to) the failover, which inspects again
    }
  }

  const effects: Record<string, (params: Record<string, unknown>, t: number) => Promise<void>> = {
    async probe(params, t) {
      if (!params.first) await sleep(plan.health.interval);
      const results: RegionSurvey[] = await Promise.all(
        planRegions(plan).map((region) => acts(region).probeRegion({ region }).catch((err: unknown): RegionSurvey => ({ region, reachable: false, error: failureText(err).message }))),
      );
      const primary = results[0]!;
      // A DR Region that answers with an error (denied, throttled) cannot take the failover either.
      const target = results.slice(1).find((r) => r.reachable && !r.problem)?.region;
      // Denied/throttled: the primary answered — not an outage (invariant 9); the machine says why.
      const problem = primary.problem ? answeredProbeReason(primary.region, primary.problem, primary.error ?? primary.problem).message : undefined;
      push({ type: 'PROBED', at: nowIso(), atMs: Date.now(), primaryReachable: primary.reachable, error: primary.error, problem, target }, t);
    },
    async openVetoWindow(_params, t) {
      vetoWindowEndsAt = new Date(Date.now() + vetoWindowMs).toISOString();
      await sleep(vetoWindowMs);
      push({ type: 'VETO_WINDOW_ELAPSED', at: nowIso() }, t);
    },
    async requestApproval(_params, t) {
      const target = snap.context.target ?? '';
      pending = { step: `recover: failover of plan ${plan.name} to ${target}`, subject: target, requestedAt: nowIso(), timeoutMs: plan.failover.approvalTimeout };
      await publisher(target)
        .publishEvent({ bus: plan.events.bus, event: { detailType: 'Approval Requested', detail: { plan: plan.name, workflowId: info.workflowId, step: pending.step, timeoutMs: pending.timeoutMs, subject: target } } })
        .catch((err: unknown) => log.warn('Approval Requested not published', { error: failureText(err).message }));
      await sleep(plan.failover.approvalTimeout);
      pending = null;
      push({ type: 'APPROVAL_TIMEOUT', at: nowIso() }, t);
    },
    async startFailover(params, t) {
      const id = failoverWorkflowId(plan.name);
      const to = String(params.to);
      // Polling is truth: a failover that already ran (a runbook one that finished just before this
      // hint was confirmed) left nothing to promote — do not start another run for nothing.
      const left = await replicasLeft(to);
      if (left === 0) {
        push({ type: 'FAILOVER_FINISHED', at: nowIso(), outcome: `nothing to fail over: every plan secret in ${to} is already standalone` }, t);
        return;
      }
      const reason = `automatic recovery: ${snap.context.lastHint?.summary ?? 'outage confirmed'} (confirmed by ${plan.health.unhealthyAfter} failed probes)`;
      let child;
      try {
        child = await startChild<typeof failoverWorkflow>('failoverWorkflow', {
          workflowId: id,
          taskQueue: workflowTaskQueue(prefix),
          parentClosePolicy: ParentClosePolicy.ABANDON,
          args: [{ plan, to, mode: 'unplanned', reason, requestedBy: `secrets-dr recover (${info.workflowId})`, skipApproval: true, taskQueuePrefix: prefix }],
        });
      } catch (err) {
        if (err instanceof WorkflowExecutionAlreadyStartedError) {
          // One failover per plan: someone else's is running; attach (it reports on its own).
          failoverId = id;
          push({ type: 'FAILOVER_STARTED', at: nowIso(), atMs: Date.now(), workflowId: id, attached: true }, t);
          push({ type: 'FAILOVER_FINISHED', at: nowIso(), outcome: 'attached to a failover already running' }, t);
          return;
        }
        push({ type: 'FAILOVER_START_FAILED', at: nowIso(), error: failureText(err).message }, t);
        return;
      }
      failoverId = id;
      push({ type: 'FAILOVER_STARTED', at: nowIso(), atMs: Date.now(), workflowId: id, attached: false }, t);
      const outcome = await child.result().then(
        (r) => r.outcome,
        (err: unknown) => `failed: ${failureText(err).message}`,
      );
      push({ type: 'FAILOVER_FINISHED', at: nowIso(), outcome }, t);
    },
  };

  let handled = 0;
  for (;;) {
    if (phase() !== 'idle') await condition(() => queue.length > 0);
    // Idle long enough: finish; a later hint starts a fresh run (minDelay has passed by then).
    else if (!(await condition(() => queue.length > 0, idleTimeoutMs))) break;
    const { event, token: t } = queue.shift()!;
    if (t !== undefined && t !== token) continue; // an answer from an older phase
    const before = phase();
    const [next, actions] = transition(recoverMachine, snap, event);
    snap = next;
    if (phase() !== before) token++;
    if (event.type === 'HINT') handled++;
    for (const a of actions as AnyEventObject[]) {
      const run = effects[a.type];
      if (run) void run((a as { params?: Record<string, unknown> }).params ?? {}, token).catch((err: unknown) => log.error(`recover effect ${a.type} failed`, { error: failureText(err).message }));
    }
    const wf = workflowInfo();
    if (phase() === 'idle' && queue.length === 0 && (handled >= HINTS_PER_RUN || wf.continueAsNewSuggested || wf.historyLength > 5_000)) {
      const c = snap.context;
      await continueAsNew<typeof recoverWorkflow>({
        ...input,
        hint: undefined,
        carry: {
          seen: c.seen,
          hints: c.hints,
          duplicates: c.duplicates,
          failovers: c.failovers,
          lastFailoverAt: c.lastFailoverAtMs !== undefined ? new Date(c.lastFailoverAtMs).toISOString() : undefined,
          lastFailoverId: c.lastFailoverId,
          journal: c.journal,
        },
      });
    }
  }
  return status();
}

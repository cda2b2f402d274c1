/**
 * Recover's effects, one method per machine action (machines/recover.machine.ts). Every wait is
 * cut short when the machine has moved on (a veto ends the window, a hint ends the idle wait),
 * so no answer of an older phase ever reaches the machine.
 */
import { ParentClosePolicy, condition, log, sleep, startChild, workflowInfo } from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { EventActivities } from '../activities/events.activities.js';
import type { FailoverActivities } from '../activities/failover.activities.js';
import type { MonitorActivities } from '../activities/monitor.activities.js';
import { answeredProbeReason, type RegionSurvey } from '../domain/health.js';
import { failoverWorkflowId, workflowTaskQueue } from '../domain/ids.js';
import { planRegions } from '../domain/plan.js';
import { HINTS_PER_RUN, RecoverInput, type RecoverCarry } from '../domain/recover.js';
import { regionActivities } from './activity-options.js';
import { ApprovalGate, failureMessage } from './kit/index.js';
import type { RecoverContext, RecoverEvent } from './machines/recover.machine.js';
import type { failoverWorkflow } from './failover.workflow.js';

const PROBE_OPTIONS = { startToCloseTimeout: '1m', retry: { maximumAttempts: 1 } } as const;
const PUBLISH_OPTIONS = { startToCloseTimeout: '30s', retry: { initialInterval: '500ms', maximumAttempts: 3 } } as const;
/** Continue as new before the history grows past this, even with few hints. */
const MAX_HISTORY_EVENTS = 5_000;
const nowIso = () => new Date().toISOString();

export class RecoverRun {
  readonly input: ReturnType<typeof RecoverInput.parse>;
  readonly gate = new ApprovalGate();
  readonly vetoWindowMs: number;
  readonly idleTimeoutMs: number;
  failoverId?: string;
  vetoWindowEndsAt?: string;

  constructor(raw: RecoverInput) {
    this.input = RecoverInput.parse(raw);
    const { plan } = this.input;
    this.vetoWindowMs = this.input.vetoWindowMs ?? plan.failover.vetoWindow ?? plan.health.interval;
    this.idleTimeoutMs = this.input.idleTimeoutMs ?? Math.max(plan.failover.minDelayBetweenFailovers, 3_600_000);
  }

  get plan() {
    return this.input.plan;
  }
  #acts = <T>(region: string, options: typeof PROBE_OPTIONS | typeof PUBLISH_OPTIONS = PROBE_OPTIONS) =>
    regionActivities<T>(region, this.input.taskQueuePrefix, options);

  machineInput() {
    const { plan, carry } = this.input;
    const lastFailoverAtMs = carry?.lastFailoverAt ? Date.parse(carry.lastFailoverAt) : undefined;
    return {
      unhealthyAfter: plan.health.unhealthyAfter,
      automatic: plan.failover.automatic,
      minDelayMs: plan.failover.minDelayBetweenFailovers,
      ...(carry ? { ...carry, lastFailoverAtMs } : {}),
    };
  }

  /** Idle: wait for a hint (the machine leaves idle), roll over when this run is long, or end after the idle timeout. */
  async awaitHint(idle: () => boolean, handled: () => number): Promise<RecoverEvent | undefined> {
    const long = () => handled() >= HINTS_PER_RUN || workflowInfo().continueAsNewSuggested || workflowInfo().historyLength > MAX_HISTORY_EVENTS;
    const woke = await condition(() => !idle() || long(), this.idleTimeoutMs);
    if (!idle()) return undefined;
    return woke ? { type: 'ROLL_OVER', at: nowIso() } : { type: 'IDLE_TIMEOUT', at: nowIso() };
  }

  /** One probe round of every plan Region (after one interval, except the first of a confirmation). */
  async probe(first: boolean): Promise<RecoverEvent> {
    if (!first) await sleep(this.plan.health.interval);
    const results = await Promise.all(
      planRegions(this.plan).map((region) =>
        this.#acts<MonitorActivities>(region)
          .probeRegion({ region })
          .catch((err: unknown): RegionSurvey => ({ region, reachable: false, error: failureMessage(err) })),
      ),
    );
    const primary = results[0]!;
    // A DR Region that answers with an error (denied, throttled) cannot take the failover either.
    const target = results.slice(1).find((r) => r.reachable && !r.problem)?.region;
    // Denied/throttled: the primary answered — not an outage (invariant 9); the machine says why.
    const problem = primary.problem ? answeredProbeReason(primary.region, primary.problem, primary.error ?? primary.problem).message : undefined;
    return { type: 'PROBED', at: nowIso(), atMs: Date.now(), primaryReachable: primary.reachable, error: primary.error, problem, target };
  }

  /** The veto window: elapses unless the machine left it (a veto) first. */
  async vetoWindow(open: () => boolean): Promise<RecoverEvent | undefined> {
    this.vetoWindowEndsAt = new Date(Date.now() + this.vetoWindowMs).toISOString();
    const vetoed = await condition(() => !open(), this.vetoWindowMs);
    this.vetoWindowEndsAt = undefined;
    return vetoed ? undefined : { type: 'VETO_WINDOW_ELAPSED', at: nowIso() };
  }

  /** Approval Requested (a hint: its failure is logged), then the one gate, bounded by the plan's timeout. */
  async requestApproval(target: string, wanted: () => boolean): Promise<RecoverEvent | undefined> {
    const { plan } = this;
    const step = `recover: failover of plan ${plan.name} to ${target}`;
    const timeoutMs = plan.failover.approvalTimeout;
    const announce = () =>
      this.#acts<EventActivities>(target, PUBLISH_OPTIONS)
        .publishEvent({
          bus: plan.events.bus,
          event: { detailType: 'Approval Requested', detail: { plan: plan.name, workflowId: workflowInfo().workflowId, step, timeoutMs, subject: target } },
        })
        .catch((err: unknown) => log.warn('Approval Requested not published', { error: failureMessage(err) }));
    const answer = await this.gate.wait({ step, subject: target, timeoutMs }, wanted, announce);
    return answer && { ...answer, at: nowIso() };
  }

  /** Plan secrets in `region` that are still replicas of the primary; undefined when it cannot tell. */
  async #replicasLeft(region: string): Promise<number | undefined> {
    try {
      let count = 0;
      let nextToken: string | undefined;
      do {
        const page = await this.#acts<FailoverActivities>(region).inspectFleet({ plan: this.plan, region, nextToken, maxPages: 20, onlyReplicas: true });
        count += page.entries.filter((e) => e.primaryRegion === this.plan.primaryRegion && !e.deleted).length;
        nextToken = page.nextToken;
      } while (nextToken);
      return count;
    } catch {
      return undefined; // cannot tell: start (or attach to) the failover, which inspects again
    }
  }

  /**
   * The failover, as an abandoned child with the plan's failover id: one failover per plan, so one
   * already running (a runbook, a second trigger) is attached to, never duplicated.
   */
  async startFailover(c: RecoverContext, send: (e: RecoverEvent) => void): Promise<RecoverEvent> {
    const { plan } = this;
    const id = failoverWorkflowId(plan.name);
    const to = c.target ?? '';
    // Polling is truth: a failover that already ran (a runbook one that finished just before this
    // hint was confirmed) left nothing to promote — do not start another run for nothing.
    if ((await this.#replicasLeft(to)) === 0)
      return { type: 'FAILOVER_FINISHED', at: nowIso(), outcome: `nothing to fail over: every plan secret in ${to} is already standalone` };
    const reason = `automatic recovery: ${c.lastHint?.summary ?? 'outage confirmed'} (confirmed by ${plan.health.unhealthyAfter} failed probes)`;
    const prefix = this.input.taskQueuePrefix;
    let child;
    try {
      child = await startChild<typeof failoverWorkflow>('failoverWorkflow', {
        workflowId: id,
        taskQueue: workflowTaskQueue(prefix),
        parentClosePolicy: ParentClosePolicy.ABANDON,
        args: [
          {
            plan,
            to,
            mode: 'unplanned',
            reason,
            requestedBy: `secrets-dr recover (${workflowInfo().workflowId})`,
            skipApproval: true,
            taskQueuePrefix: prefix,
          },
        ],
      });
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) return { type: 'FAILOVER_START_FAILED', at: nowIso(), error: failureMessage(err) };
      // One failover per plan: someone else's is running; attach (it reports on its own).
      this.failoverId = id;
      send({ type: 'FAILOVER_STARTED', at: nowIso(), atMs: Date.now(), workflowId: id, attached: true });
      return { type: 'FAILOVER_FINISHED', at: nowIso(), outcome: 'attached to a failover already running' };
    }
    this.failoverId = id;
    send({ type: 'FAILOVER_STARTED', at: nowIso(), atMs: Date.now(), workflowId: id, attached: false });
    const outcome = await child.result().then(
      (r) => r.outcome,
      (err: unknown) => `failed: ${failureMessage(err)}`,
    );
    return { type: 'FAILOVER_FINISHED', at: nowIso(), outcome };
  }

  /** What the next run carries (JSON-plain; bounded dedup memory and journal). */
  carry(c: RecoverContext): RecoverCarry {
    const lastFailoverAt = c.lastFailoverAtMs !== undefined ? new Date(c.lastFailoverAtMs).toISOString() : undefined;
    return {
      seen: c.seen,
      hints: c.hints,
      duplicates: c.duplicates,
      failovers: c.failovers,
      lastFailoverAt,
      lastFailoverId: c.lastFailoverId,
      journal: c.journal,
    };
  }
}

/**
 * monitor (long-running per plan, id `secrets-dr/<plan>/monitor`): every `plan.health.interval`
 * it surveys each Region (one probe call for reachability + latency, then the ListSecrets pages),
 * derives findings (replication, parity, rotation freshness, pending fences), and feeds each
 * Region's health machine. ONE `Health Changed` event per change, never per cycle. When the
 * primary turns unhealthy and the plan allows automatic failover, it hands a hint to `recover`
 * (signal, or start it as an abandoned child). The `health` query answers from memory (no AWS
 * call). History stays bounded: continue-as-new every `cyclesPerRun` cycles (or sooner when
 * Temporal suggests it), carrying the JSON-plain per-Region health.
 */
import {
  ParentClosePolicy,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  log,
  setHandler,
  startChild,
  workflowInfo,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { initialTransition, transition, type SnapshotFrom } from 'xstate';
import type { EventActivities } from '../activities/events.activities.js';
import type { MonitorActivities } from '../activities/monitor.activities.js';
import { assessFleet, MonitorInput, type MonitorHealth, type RegionHealth, type RegionSurvey } from '../domain/health.js';
import { recoverWorkflowId, workflowTaskQueue } from '../domain/ids.js';
import type { RecoveryHint } from '../domain/inbound-events.js';
import { planRegions } from '../domain/plan.js';
import { regionActivities } from './activity-options.js';
import { regionHealthMachine, type AnnounceParams } from './machines/monitor.machine.js';
import { monitorHealthQuery, monitorStopSignal } from './monitor.messages.js';
import { recoverHintSignal } from './recover.messages.js';
import { failureText } from './setup-support.js';
import type { recoverWorkflow } from './recover.workflow.js';

type Snap = SnapshotFrom<typeof regionHealthMachine>;

const DEFAULT_CYCLES_PER_RUN = 50;
/** Safety net besides cyclesPerRun: big fleets put large inventories into history. */
const MAX_HISTORY_EVENTS = 2_000;
const MAX_HISTORY_BYTES = 8 * 1024 * 1024;

/** A probe must not outlive its cycle for long: one attempt (a failed probe is data), short timeouts. */
const PROBE_OPTIONS = { startToCloseTimeout: '2m', heartbeatTimeout: '30s', retry: { maximumAttempts: 1 } } as const;
const PUBLISH_OPTIONS = { startToCloseTimeout: '30s', retry: { initialInterval: '500ms', maximumAttempts: 3 } } as const;

export async function monitorWorkflow(raw: MonitorInput): Promise<MonitorHealth> {
  const input = MonitorInput.parse(raw);
  const { plan, taskQueuePrefix: prefix } = input;
  const info = workflowInfo();
  const regions = planRegions(plan);
  const cyclesPerRun = input.cyclesPerRun ?? DEFAULT_CYCLES_PER_RUN;
  const nowIso = () => new Date().toISOString();
  const carry = input.carry ?? { cycles: 0, runs: 0, startedAt: nowIso(), events: 0, regions: [] };
  const machineInput = (region: string) => ({ region, unhealthyAfter: plan.health.unhealthyAfter, recoverOnUnhealthy: region === plan.primaryRegion && plan.failover.automatic, at: nowIso() });

  const snaps = new Map<string, Snap>();
  for (const region of regions) {
    const kept = carry.regions.find((r) => r.region === region);
    snaps.set(
      region,
      kept
        ? regionHealthMachine.resolveState({ value: kept.state, context: { ...kept, unhealthyAfter: plan.health.unhealthyAfter, recoverOnUnhealthy: machineInput(region).recoverOnUnhealthy } })
        : initialTransition(regionHealthMachine, machineInput(region))[0],
    );
  }
  let cycles = carry.cycles;
  let events = carry.events;
  let recoveryRequestedAt = carry.recoveryRequestedAt;
  let updatedAt: string | undefined;
  let stop = false;

  const regionHealth = (): RegionHealth[] =>
    regions.map((r) => {
      const { unhealthyAfter: _u, recoverOnUnhealthy: _r, ...ctx } = snaps.get(r)!.context;
      return ctx;
    });
  const health = (): MonitorHealth => ({
    plan: plan.name,
    workflowId: info.workflowId,
    primaryRegion: plan.primaryRegion,
    cycles,
    runs: carry.runs + 1,
    startedAt: carry.startedAt,
    updatedAt,
    intervalMs: plan.health.interval,
    regions: regionHealth(),
    events,
    recoveryRequestedAt,
  });
  setHandler(monitorHealthQuery, health);
  setHandler(monitorStopSignal, () => {
    stop = true;
  });

  const acts = (region: string) => regionActivities<MonitorActivities & EventActivities>(region, prefix, PROBE_OPTIONS);
  const publisher = (region: string) => regionActivities<EventActivities>(region, prefix, PUBLISH_OPTIONS);

  async function announce(change: AnnounceParams, reachable: string[]): Promise<void> {
    // Published where EventBridge answers: the primary when it can, else the first reachable Region.
    const where = reachable[0];
    if (!where) return log.warn('Health Changed not published: no Region reachable', { region: change.region, to: change.to });
    try {
      await publisher(where).publishEvent({
        bus: plan.events.bus,
        event: { detailType: 'Health Changed', detail: { plan: plan.name, workflowId: info.workflowId, region: change.region, from: change.from, to: change.to, reasons: change.reasons.map((r) => r.message), reasonCodes: change.reasons.map((r) => r.code) } },
      });
      events++;
    } catch (err) {
      log.warn('Health Changed not published', { region: change.region, error: failureText(err).message });
    }
  }

  /** Signal-with-start from workflow code: signal the running recover, else start it with the hint. */
  async function requestRecovery(hint: RecoveryHint): Promise<void> {
    const id = recoverWorkflowId(plan.name);
    try {
      await getExternalWorkflowHandle(id).signal(recoverHintSignal, hint);
    } catch {
      try {
        await startChild<typeof recoverWorkflow>('recoverWorkflow', {
          workflowId: id,
          taskQueue: workflowTaskQueue(prefix),
          parentClosePolicy: ParentClosePolicy.ABANDON,
          args: [{ plan, taskQueuePrefix: prefix, hint }],
        });
      } catch (err) {
        if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
        await getExternalWorkflowHandle(id).signal(recoverHintSignal, hint); // started meanwhile by the receiver
      }
    }
    recoveryRequestedAt = hint.receivedAt;
  }

  for (let inRun = 1; ; inRun++) {
    const surveys: RegionSurvey[] = await Promise.all(
      regions.map((region) => acts(region).surveyRegion({ region }).catch((err: unknown): RegionSurvey => ({ region, reachable: false, error: failureText(err).message }))),
    );
    const observations = assessFleet(plan, surveys, Date.now() + (input.clockOffsetMs ?? 0));
    const at = nowIso();
    const changes: AnnounceParams[] = [];
    let recovery: { region: string; reason: string } | undefined;
    for (const observation of observations) {
      const [next, actions] = transition(regionHealthMachine, snaps.get(observation.region)!, { type: 'PROBED', at, observation });
      snaps.set(observation.region, next);
      for (const a of actions) {
        if (a.type === 'announce') changes.push(a.params as AnnounceParams);
        if (a.type === 'requestRecovery') recovery = a.params as { region: string; reason: string };
      }
    }
    const reachable = observations.filter((o) => o.reachable).map((o) => o.region);
    for (const change of changes) await announce(change, reachable);
    if (recovery) {
      await requestRecovery({
        eventId: `${info.workflowId}/${cycles}`,
        dedupKey: `monitor:${recovery.region}:${snaps.get(recovery.region)!.context.since}`,
        kind: 'monitor',
        region: recovery.region,
        summary: `monitor: ${recovery.region} unhealthy (${recovery.reason})`,
        receivedAt: at,
      }).catch((err: unknown) => log.error('could not hand the outage to recover', { error: failureText(err).message }));
    }
    cycles++;
    updatedAt = at;
    // interval 0: cycles back to back (a timer costs ≥ 1 s on some servers; used by tests and benchmarks).
    if (stop || (plan.health.interval > 0 && (await condition(() => stop, plan.health.interval)))) break;
    const wf = workflowInfo();
    if (inRun >= cyclesPerRun || wf.continueAsNewSuggested || wf.historyLength > MAX_HISTORY_EVENTS || wf.historySize > MAX_HISTORY_BYTES) {
      await continueAsNew<typeof monitorWorkflow>({
        ...input,
        carry: { cycles, runs: carry.runs + 1, startedAt: carry.startedAt, events, regions: regionHealth(), recoveryRequestedAt },
      });
    }
  }
  return health();
}

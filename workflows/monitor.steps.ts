/**
 * The monitor's effects and per-Region health: each Region's health machine (a pure decider fed
 * one PROBED event per cycle by the kit's MachineDriver; its announce/requestRecovery actions are
 * this module's effects), the survey of every Region, the `Health Changed` events and the
 * hand-over to recover.
 */
import { monitorReadPaths } from './read-paths.workflow.js';
import { readPathCycleDue, withReadPathFindings } from '../domain/read-paths.js';
import type { ReadPathState } from '../domain/health.js';
import { ParentClosePolicy, getExternalWorkflowHandle, log, patched, startChild, workflowInfo } from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { EventActivities } from '../activities/events.activities.js';
import type { MonitorActivities } from '../activities/monitor.activities.js';
import type { InventoryActivities } from '../activities/inventory.activities.js';
import { assessFleet, MonitorInput, SURVEY_PAGES, type MonitorHealth, type RegionHealth, type RegionSurvey } from '../domain/health.js';
import { recoverWorkflowId, workflowTaskQueue } from '../domain/ids.js';
import type { RecoveryHint } from '../domain/inbound-events.js';
import { planRegions } from '../domain/plan.js';
import { regionActivities } from './activity-options.js';
import { failureMessage } from './kit/index.js';
import { MachineDriver } from './kit/run-machine.js';
import { regionHealthMachine, type AnnounceParams } from './machines/monitor.machine.js';
import { recoverHintSignal } from './recover.messages.js';
import type { recoverWorkflow } from './recover.workflow.js';
import { AccountWatch } from './monitor-accounts.steps.js';

/** Monitors recorded before account health (its activities are new commands) replay without it. */
const ACCOUNT_HEALTH_PATCH = 'monitor-account-health';

type RegionDriver = MachineDriver<typeof regionHealthMachine>;
type Carry = NonNullable<ReturnType<typeof MonitorInput.parse>['carry']>;

/** A probe must not outlive its cycle for long: one attempt (a failed probe is data), short timeouts. */
const PROBE_OPTIONS = { startToCloseTimeout: '2m', heartbeatTimeout: '30s', retry: { maximumAttempts: 1 } } as const;
const PUBLISH_OPTIONS = { startToCloseTimeout: '30s', retry: { initialInterval: '500ms', maximumAttempts: 3 } } as const;
const nowIso = () => new Date().toISOString();

export class MonitorRun {
  readonly input: ReturnType<typeof MonitorInput.parse>;
  readonly regions: string[];
  readonly carried: Carry;
  readonly #drivers = new Map<string, RegionDriver>();
  cycles: number;
  events: number;
  recoveryRequestedAt?: string;
  updatedAt?: string;
  /** The last read-path cycle's findings (the optional slower cycle: plan.health.readPathInterval). */
  readPaths?: ReadPathState;
  /** Account DR: the recovery accounts' health (only when the plan lists some). */
  readonly accounts?: AccountWatch;

  constructor(raw: MonitorInput) {
    this.input = MonitorInput.parse(raw);
    const { plan } = this.input;
    this.regions = planRegions(plan);
    this.carried = this.input.carry ?? { cycles: 0, runs: 0, startedAt: nowIso(), events: 0, regions: [] };
    this.cycles = this.carried.cycles;
    this.events = this.carried.events;
    this.recoveryRequestedAt = this.carried.recoveryRequestedAt;
    this.readPaths = this.carried.readPaths;
    // `?.`: monitors recorded before account DR carry plans without the field (replayed as they ran).
    if (plan.recoveryAccounts?.length) this.accounts = new AccountWatch(plan, this.input.taskQueuePrefix, this.carried.accounts);
    for (const region of this.regions) {
      const input = {
        region,
        unhealthyAfter: plan.health.unhealthyAfter,
        recoverOnUnhealthy: region === plan.primaryRegion && plan.failover.automatic,
        at: nowIso(),
      };
      const kept = this.carried.regions.find((r) => r.region === region);
      // A carried Region resumes where the last run left it (its JSON-plain context), with today's plan settings.
      const resumed = kept
        ? regionHealthMachine.resolveState({
            value: kept.state,
            context: { ...kept, unhealthyAfter: input.unhealthyAfter, recoverOnUnhealthy: input.recoverOnUnhealthy },
          })
        : undefined;
      // Machines are fed by `observe`, never awaited: the driver's wait is unused.
      this.#drivers.set(region, new MachineDriver(regionHealthMachine, input, undefined, resumed));
    }
  }

  get #plan() {
    return this.input.plan;
  }

  regionHealth(): RegionHealth[] {
    return this.regions.map((r) => {
      const { unhealthyAfter: _u, recoverOnUnhealthy: _r, ...ctx } = this.#drivers.get(r)!.context;
      return ctx;
    });
  }

  health(): MonitorHealth {
    const { plan } = this.input;
    const { workflowId } = workflowInfo();
    const { runs, startedAt } = this.carried;
    return {
      plan: plan.name,
      workflowId,
      primaryRegion: plan.primaryRegion,
      cycles: this.cycles,
      runs: runs + 1,
      startedAt,
      updatedAt: this.updatedAt,
      intervalMs: plan.health.interval,
      regions: this.regionHealth(),
      events: this.events,
      recoveryRequestedAt: this.recoveryRequestedAt,
      ...(this.accounts ? { accounts: this.accounts.health() } : {}),
    };
  }

  carry(): Carry {
    return {
      cycles: this.cycles,
      runs: this.carried.runs + 1,
      startedAt: this.carried.startedAt,
      events: this.events,
      regions: this.regionHealth(),
      recoveryRequestedAt: this.recoveryRequestedAt,
      ...(this.readPaths ? { readPaths: this.readPaths } : {}),
      ...(this.accounts ? { accounts: this.accounts.health() } : {}),
    };
  }

  /**
   * Account DR: each recovery account checked (reach of both accounts, cross-account replicas), a Health Changed per
   * change, published from a Region that answered this cycle without a problem (the primary first). Never a recovery.
   */
  async observeAccounts(surveys: RegionSurvey[], at: string): Promise<void> {
    if (!this.accounts || !patched(ACCOUNT_HEALTH_PATCH)) return;
    const clean = surveys.filter((s) => s.reachable && !s.problem).map((s) => s.region);
    const where = clean.includes(this.#plan.primaryRegion) ? this.#plan.primaryRegion : (clean[0] ?? surveys.find((s) => s.reachable)?.region);
    this.events += await this.accounts.observe(at, where);
  }

  /**
   * One survey of every Region (a Region that does not answer is an observation, not an error). A large
   * fleet's inventory comes in pages (SURVEY_PAGES per activity, each result bounded); a page that fails
   * after the probe answered leaves the Region reachable with no inventory: parity is then not assessed this
   * cycle, rather than judged on part of the fleet.
   */
  survey(): Promise<RegionSurvey[]> {
    const prefix = this.input.taskQueuePrefix;
    const acts = (region: string) => regionActivities<MonitorActivities>(region, prefix, PROBE_OPTIONS);
    const rest = async (first: RegionSurvey): Promise<RegionSurvey> => {
      const inventory = first.inventory;
      if (!inventory?.nextToken) return first;
      const entries = [...inventory.entries];
      let listCalls = inventory.listCalls;
      let nextToken: string | undefined = inventory.nextToken;
      try {
        while (nextToken) {
          const page = await regionActivities<InventoryActivities>(first.region, prefix, PROBE_OPTIONS).listInventory({
            region: first.region,
            nextToken,
            maxPages: SURVEY_PAGES,
          });
          entries.push(...page.entries);
          listCalls += page.listCalls;
          nextToken = page.nextToken;
        }
      } catch (err) {
        const { inventory: _partial, ...probe } = first;
        return { ...probe, error: `inventory incomplete (parity not assessed this cycle): ${failureMessage(err)}` };
      }
      return { ...first, inventory: { region: first.region, entries, listCalls } };
    };
    return Promise.all(
      this.regions.map((region) =>
        acts(region)
          .surveyRegion({ region, maxPages: SURVEY_PAGES })
          .then(rest)
          .catch((err: unknown): RegionSurvey => ({ region, reachable: false, error: failureMessage(err) })),
      ),
    );
  }

  /** When due, the slower cycle: applications' read paths in the DR Regions (plan.health.readPathInterval). */
  async checkReadPaths(surveys: RegionSurvey[]): Promise<void> {
    if (readPathCycleDue(this.#plan.health.readPathInterval, this.readPaths, Date.now()))
      this.readPaths = await monitorReadPaths(this.#plan, this.input.taskQueuePrefix, surveys, Date.now());
  }

  /**
   * Feeds each Region's machine its observation, then runs what they decided: the `Health Changed`
   * events in Region order, then (after all of them) the hand-over to recover. Returns the cycle's time.
   */
  async observe(surveys: RegionSurvey[]): Promise<string> {
    const at = nowIso();
    const observations = withReadPathFindings(assessFleet(this.#plan, surveys, Date.now() + (this.input.clockOffsetMs ?? 0)), this.readPaths);
    const reachable = observations.filter((o) => o.reachable).map((o) => o.region);
    for (const observation of observations) this.#drivers.get(observation.region)!.send({ type: 'PROBED', at, observation });
    let recovery: { region: string; reason: string } | undefined;
    for (const observation of observations)
      await this.#drivers.get(observation.region)!.drain({
        announce: ({ params }) => this.announce(params as AnnounceParams, reachable),
        requestRecovery: ({ params }) => void (recovery = params as { region: string; reason: string }),
      });
    if (recovery) await this.requestRecovery(recovery, at);
    return at;
  }

  /** Health Changed, published where EventBridge answers: the primary when it can, else the first reachable Region. */
  async announce(change: AnnounceParams, reachable: string[]): Promise<void> {
    const where = reachable[0];
    if (!where) return log.warn('Health Changed not published: no Region reachable', { region: change.region, to: change.to });
    const detail = {
      plan: this.#plan.name,
      workflowId: workflowInfo().workflowId,
      region: change.region,
      from: change.from,
      to: change.to,
      reasons: change.reasons.map((r) => r.message),
      reasonCodes: change.reasons.map((r) => r.code),
    };
    try {
      await regionActivities<EventActivities>(where, this.input.taskQueuePrefix, PUBLISH_OPTIONS).publishEvent({
        bus: this.#plan.events.bus,
        event: { detailType: 'Health Changed', detail },
      });
      this.events++;
    } catch (err) {
      log.warn('Health Changed not published', { region: change.region, error: failureMessage(err) });
    }
  }

  /** Hands the outage to recover: signal the running one, else start it (abandoned child) with the hint. */
  async requestRecovery(recovery: { region: string; reason: string }, at: string): Promise<void> {
    const { plan, taskQueuePrefix: prefix } = this.input;
    const hint: RecoveryHint = {
      eventId: `${workflowInfo().workflowId}/${this.cycles}`,
      dedupKey: `monitor:${recovery.region}:${this.#drivers.get(recovery.region)!.context.since}`,
      kind: 'monitor',
      region: recovery.region,
      summary: `monitor: ${recovery.region} unhealthy (${recovery.reason})`,
      receivedAt: at,
    };
    const id = recoverWorkflowId(plan.name);
    try {
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
      this.recoveryRequestedAt = hint.receivedAt;
    } catch (err) {
      log.error('could not hand the outage to recover', { error: failureMessage(err) });
    }
  }
}

/**
 * The lab's EventBridge: event buses, rules, targets, connections and API destinations per
 * account and Region, spoken over the AWS JSON 1.1 operations the server routes here
 * (`X-Amz-Target: AWSEvents.<Op>`), plus lab-only entry points (publish, inject, logs).
 *
 * Delivery (see lab/eventbridge/README.md for the full contract):
 * - PutEvents/publish match synchronously (every ENABLED rule of the bus whose pattern matches)
 *   and hand each (rule, target) to an asynchronous delivery: PutEvents never waits for a target.
 * - API destination targets get one HTTP request per event (method of the destination, body =
 *   the event or the target's Input/InputPath/InputTransformer rendering, auth header from the
 *   connection, HttpParameters). Network errors, timeouts, 401, 407, 409, 429 and 5xx are retried
 *   with exponential backoff, up to `delivery.maxAttempts` attempts in all (default 3; fewer if
 *   the target's RetryPolicy.MaximumRetryAttempts says so); then the delivery is recorded failed.
 * - Event bus targets (`arn:aws:events:<region>:<account>:event-bus/<name>`, any served Region)
 *   re-publish the event, envelope unchanged, onto that bus (cross-Region routing).
 * - Any other target kind is recorded as 'unsupported-target' (not an error).
 * Every attempt is a DeliveryRecord; `whenIdle()` resolves when no delivery is in flight.
 */
import { randomUUID } from 'node:crypto';
import { LabError, type EmulatedService, type InternalEvent, type RequestContext } from '../types.js';
import { buildAlarmEvent, buildHealthEvents, type InjectAlarmInput, type InjectHealthInput } from './aws-events.js';
import type { DeliveryRecord, EventBridgeServiceOptions, EventLogFilter, Input, LoggedEvent, Snapshot } from './model.js';
import { Regions } from './regions.js';
import { Delivery, type Envelope } from './delivery.js';
import { putEvents } from './put-events.js';
import { deleteRule, describeRule, listRules, putRule, setRuleState, testEventPattern } from './rules.js';
import { listRuleNamesByTarget, listTargetsByRule, putTargets, removeTargets } from './targets.js';
import { createEventBus, deleteEventBus, describeEventBus, listEventBuses } from './buses.js';
import { createConnection, deleteConnection, describeConnection, listConnections, updateConnection } from './connections.js';
import { createApiDestination, deleteApiDestination, describeApiDestination, listApiDestinations, updateApiDestination } from './api-destinations.js';
import { listTagsForResource, tagResource, untagResource } from './tags.js';
import { deepCopy, isoSeconds, validation } from './shared.js';

export type { InjectAlarmInput, InjectHealthInput } from './aws-events.js';
export type { DeliveryOutcome, DeliveryRecord, EventBridgeServiceOptions, EventLogFilter, LoggedEvent } from './model.js';

type Operation = (st: Regions, input: Input, ctx: RequestContext) => unknown;

/** The AWS operations, each in the module of its concern. */
const OPERATIONS: Record<string, Operation> = {
  PutRule: putRule,
  DescribeRule: describeRule,
  ListRules: listRules,
  DeleteRule: deleteRule,
  EnableRule: (st, input, ctx) => setRuleState(st, input, ctx, 'ENABLED'),
  DisableRule: (st, input, ctx) => setRuleState(st, input, ctx, 'DISABLED'),
  PutTargets: putTargets,
  RemoveTargets: removeTargets,
  ListTargetsByRule: listTargetsByRule,
  ListRuleNamesByTarget: listRuleNamesByTarget,
  TestEventPattern: (_st, input) => testEventPattern(input),
  CreateEventBus: createEventBus,
  DescribeEventBus: describeEventBus,
  DeleteEventBus: deleteEventBus,
  ListEventBuses: listEventBuses,
  CreateConnection: createConnection,
  UpdateConnection: updateConnection,
  DescribeConnection: describeConnection,
  DeleteConnection: deleteConnection,
  ListConnections: listConnections,
  CreateApiDestination: createApiDestination,
  UpdateApiDestination: updateApiDestination,
  DescribeApiDestination: describeApiDestination,
  DeleteApiDestination: deleteApiDestination,
  ListApiDestinations: listApiDestinations,
  TagResource: tagResource,
  UntagResource: untagResource,
  ListTagsForResource: listTagsForResource,
};

export class EventBridgeService implements EmulatedService {
  private readonly accountId: string;
  private readonly regions: readonly string[];
  private readonly log: (line: string) => void;
  private readonly st: Regions;
  private readonly delivery: Delivery;

  constructor(opts: EventBridgeServiceOptions) {
    this.accountId = opts.accountId;
    this.regions = opts.regions;
    this.log = opts.log ?? (() => {});
    this.st = new Regions(opts.accountId, opts.clock);
    this.delivery = new Delivery(this.st, opts);
  }

  // -------------------------------------------------------------------------------------------
  // EmulatedService

  async handle(operation: string, input: Input, ctx: RequestContext): Promise<unknown> {
    const body = input ?? {};
    if (operation === 'PutEvents') return putEvents(this.st, this.delivery, this.log, body, ctx);
    const op = OPERATIONS[operation];
    if (!op) throw new LabError('UnknownOperationException', `Operation ${operation} is not supported by the lab's EventBridge.`);
    return op(this.st, body, ctx);
  }

  reset(): void {
    this.delivery.reset();
    this.st.reset();
  }

  snapshot(): Snapshot {
    return this.st.snapshot();
  }

  restore(state: unknown): void {
    this.reset();
    this.st.restore(state);
  }

  // -------------------------------------------------------------------------------------------
  // Lab entry points

  /** An event from the lab itself, put on the default bus of `ev.region` like a PutEvents entry. */
  publish(ev: InternalEvent): void {
    const rs = this.st.regionState(this.accountId, ev.region);
    const bus = this.st.findBus(rs, 'default')!;
    const now = this.st.clock.now();
    const envelope: Envelope = {
      version: '0',
      id: randomUUID(),
      'detail-type': ev.detailType,
      source: ev.source,
      account: this.accountId,
      time: isoSeconds(now),
      region: ev.region,
      resources: [...(ev.resources ?? [])],
      detail: deepCopy(ev.detail),
    };
    this.delivery.accept(rs, bus, envelope, 0);
  }

  /** Every event accepted on any bus, oldest first (bounded by maxLogEntries). */
  eventLog(filter: EventLogFilter = {}): LoggedEvent[] {
    return this.delivery.events
      .filter(
        (e) =>
          (filter.region === undefined || e.busRegion === filter.region) &&
          (filter.source === undefined || e.source === filter.source) &&
          (filter.detailType === undefined || e['detail-type'] === filter.detailType) &&
          (filter.eventBusName === undefined || e.eventBusName === filter.eventBusName),
      )
      .map((e) => deepCopy(e));
  }

  /** Every delivery attempt to a target, oldest first (bounded by maxLogEntries). */
  deliveries(): DeliveryRecord[] {
    return this.delivery.attempts.map((d) => ({ ...d }));
  }

  /** Publishes an AWS Health event (see aws-events.ts for the delivery Regions). */
  injectHealth(input: InjectHealthInput): void {
    if (!input || typeof input.eventRegion !== 'string' || input.eventRegion === '') {
      throw validation('eventRegion is required');
    }
    for (const ev of buildHealthEvents(input, { accountId: this.accountId, now: this.st.clock.now(), servedRegions: this.regions })) {
      this.publish(ev);
    }
  }

  /** Publishes a CloudWatch "Alarm State Change" event on the default bus of `input.region`. */
  injectAlarm(input: InjectAlarmInput): void {
    if (!input || typeof input.region !== 'string' || typeof input.alarmName !== 'string' || input.alarmName === '') {
      throw validation('region and alarmName are required');
    }
    if (!['ALARM', 'OK', 'INSUFFICIENT_DATA'].includes(input.state)) throw validation('state must be ALARM, OK or INSUFFICIENT_DATA');
    this.publish(buildAlarmEvent(input, { accountId: this.accountId, now: this.st.clock.now() }));
  }

  /** Resolves once no delivery (HTTP request, retry wait or forwarding) is in flight. */
  async whenIdle(): Promise<void> {
    await this.delivery.whenIdle();
  }
}

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
import { LabError, type EmulatedService, type InternalEvent, type LabClock, type RequestContext } from '../types.js';
import { EventPatternError, matchesPattern, parseEventPattern, type CompiledPattern } from './pattern.js';
import {
  evaluateJsonPath,
  parseJsonPath,
  targetInput,
  validateInputTransformer,
  type InputTransformer,
} from './transform.js';
import {
  buildAlarmEvent,
  buildHealthEvents,
  type InjectAlarmInput,
  type InjectHealthInput,
} from './aws-events.js';

export type { InjectAlarmInput, InjectHealthInput } from './aws-events.js';

// ---------------------------------------------------------------------------------------------
// Public types

/** An event as EventBridge delivers it, plus where the lab accepted it. */
export interface LoggedEvent {
  version: '0';
  id: string;
  'detail-type': string;
  source: string;
  account: string;
  time: string;
  region: string;
  resources: string[];
  detail: Record<string, unknown>;
  /** The bus that accepted it (a forwarded event appears once per bus). */
  eventBusName: string;
  eventBusArn: string;
  /** Region of that bus (differs from `region` for cross-Region forwarded events). */
  busRegion: string;
  /** Lab time the bus accepted it (ISO 8601). */
  receivedAt: string;
}

export type DeliveryOutcome = 'delivered' | 'retrying' | 'failed' | 'forwarded' | 'unsupported-target';

export interface DeliveryRecord {
  /** Lab time of the attempt (ISO 8601). */
  time: string;
  eventId: string;
  ruleArn: string;
  ruleName: string;
  eventBusName: string;
  targetId: string;
  targetArn: string;
  kind: 'api-destination' | 'event-bus' | 'unsupported';
  /** 1-based attempt number. */
  attempt: number;
  outcome: DeliveryOutcome;
  /** HTTP status of the response (API destinations). */
  status?: number;
  /** Network error, timeout, or why the delivery could not be made. */
  error?: string;
  method?: string;
  url?: string;
}

export interface EventLogFilter {
  /** Region of the bus that accepted the event. */
  region?: string;
  source?: string;
  detailType?: string;
  eventBusName?: string;
}

export interface DeliveryOptions {
  /** Attempts per (event, target), first one included. Default 3. */
  maxAttempts?: number;
  /** First retry delay; doubles each retry. Default 100 ms. */
  backoffMs?: number;
  /** Per-request timeout (EventBridge gives API destinations 5 s). Default 5000 ms. */
  timeoutMs?: number;
}

export interface EventBridgeServiceOptions {
  accountId: string;
  regions: readonly string[];
  clock: LabClock;
  log?: (line: string) => void;
  fetchImpl?: typeof fetch;
  delivery?: DeliveryOptions;
  /** Bound of eventLog() and deliveries() (oldest dropped first, in chunks of 10%). Default 20,000 each. */
  maxLogEntries?: number;
}

// ---------------------------------------------------------------------------------------------
// State (JSON-plain, so snapshot() is a deep copy)

interface Tag {
  Key: string;
  Value: string;
}

interface TargetRecord {
  Id: string;
  Arn: string;
  RoleArn?: string;
  Input?: string;
  InputPath?: string;
  InputTransformer?: InputTransformer;
  HttpParameters?: HttpParameters;
  RetryPolicy?: { MaximumRetryAttempts?: number; MaximumEventAgeInSeconds?: number };
  [other: string]: unknown;
}

interface HttpParameters {
  PathParameterValues?: string[];
  HeaderParameters?: Record<string, string>;
  QueryStringParameters?: Record<string, string>;
}

interface RuleRecord {
  Name: string;
  Arn: string;
  EventBusName: string;
  EventPattern?: string;
  ScheduleExpression?: string;
  State: string;
  Description?: string;
  RoleArn?: string;
  CreatedBy: string;
  Tags: Tag[];
  Targets: TargetRecord[];
}

interface BusRecord {
  Name: string;
  Arn: string;
  Description?: string;
  CreationTime: number;
  LastModifiedTime: number;
  Tags: Tag[];
  Rules: RuleRecord[];
}

interface ConnectionParam {
  Key: string;
  Value?: string;
  IsValueSecret?: boolean;
}

interface InvocationHttpParameters {
  HeaderParameters?: ConnectionParam[];
  QueryStringParameters?: ConnectionParam[];
  BodyParameters?: ConnectionParam[];
}

interface AuthParameters {
  ApiKeyAuthParameters?: { ApiKeyName?: string; ApiKeyValue?: string };
  BasicAuthParameters?: { Username?: string; Password?: string };
  OAuthParameters?: {
    ClientParameters?: { ClientID?: string; ClientSecret?: string };
    AuthorizationEndpoint?: string;
    HttpMethod?: string;
    OAuthHttpParameters?: InvocationHttpParameters;
  };
  InvocationHttpParameters?: InvocationHttpParameters;
}

interface ConnectionRecord {
  Name: string;
  Arn: string;
  Description?: string;
  AuthorizationType: string;
  AuthParameters: AuthParameters;
  ConnectionState: string;
  SecretArn: string;
  CreationTime: number;
  LastModifiedTime: number;
  LastAuthorizedTime: number;
}

interface ApiDestinationRecord {
  Name: string;
  Arn: string;
  Description?: string;
  ConnectionArn: string;
  InvocationEndpoint: string;
  HttpMethod: string;
  InvocationRateLimitPerSecond: number;
  ApiDestinationState: string;
  CreationTime: number;
  LastModifiedTime: number;
}

interface RegionState {
  accountId: string;
  region: string;
  buses: BusRecord[];
  connections: ConnectionRecord[];
  apiDestinations: ApiDestinationRecord[];
}

interface Snapshot {
  version: 1;
  regions: RegionState[];
}

type Input = Record<string, unknown>;

// ---------------------------------------------------------------------------------------------
// Constants

const RULE_NAME = /^[.\-_A-Za-z0-9]{1,64}$/;
const TARGET_ID = /^[.\-_A-Za-z0-9]{1,64}$/;
const BUS_NAME = /^[/.\-_A-Za-z0-9]{1,256}$/;
const BUS_ARN = /^arn:aws[\w-]*:events:([a-z0-9-]+):(\d{12}):event-bus\/([/.\-_A-Za-z0-9]+)$/;
const ANY_ARN = /^arn:aws[\w-]*:([a-z0-9-]+):([a-z0-9-]*):(\d{12}|):(.+)$/;
const HTTP_METHODS = new Set(['POST', 'GET', 'HEAD', 'OPTIONS', 'PUT', 'PATCH', 'DELETE']);
const RULE_STATES = new Set(['ENABLED', 'DISABLED', 'ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS']);
const AUTH_TYPES = new Set(['BASIC', 'API_KEY', 'OAUTH_CLIENT_CREDENTIALS']);
/** HTTP statuses EventBridge retries for API destinations (plus network errors and timeouts). */
const RETRYABLE_STATUS = new Set([401, 407, 409, 429]);
const MAX_TARGETS_PER_RULE = 5;
const MAX_EVENT_PATTERN_LENGTH = 4096;
/** Bus-to-bus hops before an event is dropped (guards against forwarding loops). */
const MAX_HOPS = 5;

function validation(message: string): LabError {
  return new LabError('ValidationException', message);
}

function notFound(message: string): LabError {
  return new LabError('ResourceNotFoundException', message);
}

function isoSeconds(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

function epochSeconds(ms: number): number {
  return ms / 1000;
}

function clean<T extends Record<string, unknown>>(obj: T): T {
  for (const k of Object.keys(obj)) if (obj[k] === undefined) delete obj[k];
  return obj;
}

function deepCopy<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}

// ---------------------------------------------------------------------------------------------

export class EventBridgeService implements EmulatedService {
  private readonly accountId: string;
  private readonly regions: readonly string[];
  private readonly clock: LabClock;
  private readonly log: (line: string) => void;
  private readonly fetchImpl: typeof fetch;
  private readonly maxAttempts: number;
  private readonly backoffMs: number;
  private readonly timeoutMs: number;
  private readonly maxLogEntries: number;

  private state = new Map<string, RegionState>();
  private compiled = new WeakMap<RuleRecord, CompiledPattern>();
  private events: LoggedEvent[] = [];
  private attempts: DeliveryRecord[] = [];
  private inFlight = new Set<Promise<void>>();
  /** Bumped by reset(): deliveries of an older generation stop quietly. */
  private generation = 0;

  constructor(opts: EventBridgeServiceOptions) {
    this.accountId = opts.accountId;
    this.regions = opts.regions;
    this.clock = opts.clock;
    this.log = opts.log ?? (() => {});
    this.fetchImpl = opts.fetchImpl ?? ((...args: Parameters<typeof fetch>) => fetch(...args));
    this.maxAttempts = Math.max(1, opts.delivery?.maxAttempts ?? 3);
    this.backoffMs = Math.max(0, opts.delivery?.backoffMs ?? 100);
    this.timeoutMs = Math.max(1, opts.delivery?.timeoutMs ?? 5000);
    this.maxLogEntries = Math.max(1, opts.maxLogEntries ?? 20_000);
  }

  // -------------------------------------------------------------------------------------------
  // EmulatedService

  async handle(operation: string, input: Input, ctx: RequestContext): Promise<unknown> {
    const body = input ?? {};
    switch (operation) {
      case 'PutEvents': return this.putEvents(body, ctx);
      case 'PutRule': return this.putRule(body, ctx);
      case 'DescribeRule': return this.describeRule(body, ctx);
      case 'ListRules': return this.listRules(body, ctx);
      case 'DeleteRule': return this.deleteRule(body, ctx);
      case 'EnableRule': return this.setRuleState(body, ctx, 'ENABLED');
      case 'DisableRule': return this.setRuleState(body, ctx, 'DISABLED');
      case 'PutTargets': return this.putTargets(body, ctx);
      case 'RemoveTargets': return this.removeTargets(body, ctx);
      case 'ListTargetsByRule': return this.listTargetsByRule(body, ctx);
      case 'ListRuleNamesByTarget': return this.listRuleNamesByTarget(body, ctx);
      case 'TestEventPattern': return this.testEventPattern(body);
      case 'CreateEventBus': return this.createEventBus(body, ctx);
      case 'DescribeEventBus': return this.describeEventBus(body, ctx);
      case 'DeleteEventBus': return this.deleteEventBus(body, ctx);
      case 'ListEventBuses': return this.listEventBuses(body, ctx);
      case 'CreateConnection': return this.createConnection(body, ctx);
      case 'UpdateConnection': return this.updateConnection(body, ctx);
      case 'DescribeConnection': return this.describeConnection(body, ctx);
      case 'DeleteConnection': return this.deleteConnection(body, ctx);
      case 'ListConnections': return this.listConnections(body, ctx);
      case 'CreateApiDestination': return this.createApiDestination(body, ctx);
      case 'UpdateApiDestination': return this.updateApiDestination(body, ctx);
      case 'DescribeApiDestination': return this.describeApiDestination(body, ctx);
      case 'DeleteApiDestination': return this.deleteApiDestination(body, ctx);
      case 'ListApiDestinations': return this.listApiDestinations(body, ctx);
      case 'TagResource': return this.tagResource(body, ctx);
      case 'UntagResource': return this.untagResource(body, ctx);
      case 'ListTagsForResource': return this.listTagsForResource(body, ctx);
      default:
        throw new LabError('UnknownOperationException', `Operation ${operation} is not supported by the lab's EventBridge.`);
    }
  }

  reset(): void {
    this.generation++;
    this.state.clear();
    this.compiled = new WeakMap();
    this.events = [];
    this.attempts = [];
    this.inFlight.clear();
  }

  snapshot(): Snapshot {
    return { version: 1, regions: deepCopy([...this.state.values()]) };
  }

  restore(state: unknown): void {
    this.reset();
    const snap = state as Partial<Snapshot> | undefined;
    if (!snap || !Array.isArray(snap.regions)) return;
    for (const rs of deepCopy(snap.regions)) {
      this.state.set(`${rs.accountId}|${rs.region}`, rs);
      for (const bus of rs.buses) {
        for (const rule of bus.Rules) if (rule.EventPattern) this.compiled.set(rule, parseEventPattern(rule.EventPattern));
      }
    }
  }

  // -------------------------------------------------------------------------------------------
  // Lab entry points

  /** An event from the lab itself, put on the default bus of `ev.region` like a PutEvents entry. */
  publish(ev: InternalEvent): void {
    const rs = this.regionState(this.accountId, ev.region);
    const bus = this.findBus(rs, 'default')!;
    const now = this.clock.now();
    const envelope: Omit<LoggedEvent, 'eventBusName' | 'eventBusArn' | 'busRegion' | 'receivedAt'> = {
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
    this.accept(rs, bus, envelope, 0);
  }

  /** Every event accepted on any bus, oldest first (bounded by maxLogEntries). */
  eventLog(filter: EventLogFilter = {}): LoggedEvent[] {
    return this.events
      .filter((e) =>
        (filter.region === undefined || e.busRegion === filter.region) &&
        (filter.source === undefined || e.source === filter.source) &&
        (filter.detailType === undefined || e['detail-type'] === filter.detailType) &&
        (filter.eventBusName === undefined || e.eventBusName === filter.eventBusName))
      .map((e) => deepCopy(e));
  }

  /** Every delivery attempt to a target, oldest first (bounded by maxLogEntries). */
  deliveries(): DeliveryRecord[] {
    return this.attempts.map((d) => ({ ...d }));
  }

  /** Publishes an AWS Health event (see aws-events.ts for the delivery Regions). */
  injectHealth(input: InjectHealthInput): void {
    if (!input || typeof input.eventRegion !== 'string' || input.eventRegion === '') {
      throw validation('eventRegion is required');
    }
    for (const ev of buildHealthEvents(input, { accountId: this.accountId, now: this.clock.now(), servedRegions: this.regions })) {
      this.publish(ev);
    }
  }

  /** Publishes a CloudWatch "Alarm State Change" event on the default bus of `input.region`. */
  injectAlarm(input: InjectAlarmInput): void {
    if (!input || typeof input.region !== 'string' || typeof input.alarmName !== 'string' || input.alarmName === '') {
      throw validation('region and alarmName are required');
    }
    if (!['ALARM', 'OK', 'INSUFFICIENT_DATA'].includes(input.state)) throw validation('state must be ALARM, OK or INSUFFICIENT_DATA');
    this.publish(buildAlarmEvent(input, { accountId: this.accountId, now: this.clock.now() }));
  }

  /** Resolves once no delivery (HTTP request, retry wait or forwarding) is in flight. */
  async whenIdle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  // -------------------------------------------------------------------------------------------
  // State helpers

  private regionState(accountId: string, region: string): RegionState {
    const key = `${accountId}|${region}`;
    let rs = this.state.get(key);
    if (!rs) {
      const now = this.clock.now();
      rs = {
        accountId,
        region,
        buses: [{
          Name: 'default',
          Arn: `arn:aws:events:${region}:${accountId}:event-bus/default`,
          CreationTime: now,
          LastModifiedTime: now,
          Tags: [],
          Rules: [],
        }],
        connections: [],
        apiDestinations: [],
      };
      this.state.set(key, rs);
    }
    return rs;
  }

  private regionOf(ctx: RequestContext): RegionState {
    return this.regionState(ctx.accountId || this.accountId, ctx.region);
  }

  private findBus(rs: RegionState, name: string): BusRecord | undefined {
    return rs.buses.find((b) => b.Name === name);
  }

  /**
   * EventBusName as a name or an ARN; default 'default'. An ARN of another account or Region is
   * returned whole, so that no bus of this Region matches it (ResourceNotFoundException, or a
   * dropped PutEvents entry).
   */
  private busName(rs: RegionState, input: Input, field = 'EventBusName'): string {
    const raw = input[field];
    if (raw === undefined || raw === null || raw === '') return 'default';
    if (typeof raw !== 'string') throw validation(`${field} must be a string`);
    const arn = BUS_ARN.exec(raw);
    if (arn) return arn[1] === rs.region && arn[2] === rs.accountId ? (arn[3] as string) : raw;
    if (!BUS_NAME.test(raw)) {
      throw validation(`1 validation error detected: Value '${raw}' at '${lowerFirst(field)}' failed to satisfy constraint: Member must satisfy regular expression pattern: (arn:aws[\\w-]*:events:[a-z]+-[a-z]+-[\\w-]+:[0-9]{12}:event-bus\\/)?[/\\.\\-_A-Za-z0-9]+`);
    }
    return raw;
  }

  private requireBus(rs: RegionState, input: Input, field = 'EventBusName'): BusRecord {
    const name = this.busName(rs, input, field);
    const bus = this.findBus(rs, name);
    if (!bus) throw notFound(`Event bus ${name} does not exist.`);
    return bus;
  }

  private requireRule(rs: RegionState, input: Input, field = 'Name'): { bus: BusRecord; rule: RuleRecord } {
    const bus = this.requireBus(rs, input);
    const name = requireString(input, field, RULE_NAME);
    const rule = bus.Rules.find((r) => r.Name === name);
    if (!rule) throw notFound(`Rule ${name} does not exist on EventBus ${bus.Name}.`);
    return { bus, rule };
  }

  private ruleArn(rs: RegionState, bus: string, name: string): string {
    const path = bus === 'default' ? name : `${bus}/${name}`;
    return `arn:aws:events:${rs.region}:${rs.accountId}:rule/${path}`;
  }

  // -------------------------------------------------------------------------------------------
  // PutEvents and routing

  private putEvents(input: Input, ctx: RequestContext): unknown {
    const entries = input.Entries;
    if (!Array.isArray(entries) || entries.length === 0) {
      throw validation("1 validation error detected: Value null at 'entries' failed to satisfy constraint: Member must not be null");
    }
    if (entries.length > 10) {
      throw validation(`1 validation error detected: Value '${JSON.stringify(entries).slice(0, 200)}' at 'entries' failed to satisfy constraint: Member must have length less than or equal to 10`);
    }
    const rs = this.regionOf(ctx);
    let failed = 0;
    const results = entries.map((raw: unknown) => {
      const result = this.putEntry(rs, (raw ?? {}) as Input, ctx);
      if ('ErrorCode' in result) failed++;
      return result;
    });
    return { FailedEntryCount: failed, Entries: results };
  }

  private putEntry(rs: RegionState, entry: Input, ctx: RequestContext): { EventId: string } | { ErrorCode: string; ErrorMessage: string } {
    const invalid = (field: string, reason: string) => ({
      ErrorCode: 'InvalidArgument',
      ErrorMessage: `Parameter ${field} is not valid. Reason: ${reason}`,
    });
    const { Source, DetailType, Detail, Resources, Time } = entry;
    if (typeof Source !== 'string' || Source === '') return invalid('Source', 'Source is a required argument.');
    if (typeof DetailType !== 'string' || DetailType === '') return invalid('DetailType', 'DetailType is a required argument.');
    if (typeof Detail !== 'string' || Detail === '') return invalid('Detail', 'Detail is a required argument.');
    if (Source.startsWith('aws.')) {
      return { ErrorCode: 'NotAuthorizedForSourceException', ErrorMessage: 'Not authorized for the source.' };
    }
    let detail: unknown;
    try {
      detail = JSON.parse(Detail);
    } catch {
      return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' };
    }
    if (!detail || typeof detail !== 'object' || Array.isArray(detail)) {
      return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' };
    }
    if (Resources !== undefined && (!Array.isArray(Resources) || !Resources.every((r) => typeof r === 'string'))) {
      return invalid('Resources', 'Resources must be a list of strings.');
    }
    if (Buffer.byteLength(JSON.stringify(entry)) > 256 * 1024) {
      return { ErrorCode: 'InvalidArgument', ErrorMessage: 'Total size of the entries in the request is over the limit.' };
    }
    let busName: string;
    try {
      busName = this.busName(rs, entry);
    } catch (err) {
      return { ErrorCode: 'InvalidArgument', ErrorMessage: (err as Error).message };
    }
    const timeMs = typeof Time === 'number' ? Time * 1000 : typeof Time === 'string' && Time !== '' ? Date.parse(Time) : this.clock.now();
    const id = randomUUID();
    const bus = this.findBus(rs, busName);
    if (!bus) {
      // AWS accepts events for a bus that does not exist and drops them (aws/aws-sdk#186).
      this.log(`[events ${ctx.region}] event ${id} for missing bus ${busName} dropped`);
      return { EventId: id };
    }
    this.accept(rs, bus, {
      version: '0',
      id,
      'detail-type': DetailType,
      source: Source,
      account: rs.accountId,
      time: isoSeconds(Number.isFinite(timeMs) ? timeMs : this.clock.now()),
      region: rs.region,
      resources: (Resources as string[] | undefined) ?? [],
      detail: detail as Record<string, unknown>,
    }, 0);
    return { EventId: id };
  }

  /** A bus accepts an event: log it, match every enabled rule, start deliveries. */
  private accept(
    rs: RegionState,
    bus: BusRecord,
    envelope: Omit<LoggedEvent, 'eventBusName' | 'eventBusArn' | 'busRegion' | 'receivedAt'>,
    hops: number,
  ): void {
    const receivedAt = new Date(this.clock.now()).toISOString();
    this.events.push({ ...envelope, eventBusName: bus.Name, eventBusArn: bus.Arn, busRegion: rs.region, receivedAt });
    trim(this.events, this.maxLogEntries);
    const event = envelope as unknown as Record<string, unknown>;
    for (const rule of bus.Rules) {
      if (rule.State === 'DISABLED') continue;
      const pattern = this.compiled.get(rule);
      if (!pattern || !matchesPattern(pattern, event)) continue;
      for (const target of rule.Targets) {
        this.track(this.deliver(rs, bus, rule, deepCopy(target), envelope, receivedAt, hops));
      }
    }
  }

  private track(p: Promise<void>): void {
    const tracked = p.catch((err: unknown) => this.log(`[events] delivery crashed: ${String(err)}`)).finally(() => {
      this.inFlight.delete(tracked);
    });
    this.inFlight.add(tracked);
  }

  private record(rec: Omit<DeliveryRecord, 'time'>, generation: number): void {
    if (generation !== this.generation) return;
    const full: DeliveryRecord = { time: new Date(this.clock.now()).toISOString(), ...rec };
    this.attempts.push(full);
    trim(this.attempts, this.maxLogEntries);
    const what = full.status !== undefined ? `HTTP ${full.status}` : full.error ?? '';
    this.log(`[events ${full.eventBusName}] ${full.ruleName} → ${full.targetId} attempt ${full.attempt}: ${full.outcome} ${what}`.trimEnd());
  }

  private async deliver(
    rs: RegionState,
    bus: BusRecord,
    rule: RuleRecord,
    target: TargetRecord,
    envelope: Omit<LoggedEvent, 'eventBusName' | 'eventBusArn' | 'busRegion' | 'receivedAt'>,
    receivedAt: string,
    hops: number,
  ): Promise<void> {
    const generation = this.generation;
    await new Promise<void>((resolve) => setImmediate(resolve)); // never deliver inside PutEvents
    const base = {
      eventId: envelope.id,
      ruleArn: rule.Arn,
      ruleName: rule.Name,
      eventBusName: bus.Name,
      targetId: target.Id,
      targetArn: target.Arn,
    };
    const arn = ANY_ARN.exec(target.Arn);
    const service = arn?.[1];
    const region = arn?.[2] ?? '';
    const account = arn?.[3] ?? '';
    const resource = arn?.[4] ?? '';
    if (service === 'events' && resource.startsWith('event-bus/')) {
      const name = resource.slice('event-bus/'.length);
      const known = this.regions.includes(region) || this.state.has(`${account}|${region}`);
      const destRs = known ? this.regionState(account, region) : undefined;
      const destBus = destRs && this.findBus(destRs, name);
      if (!destRs || !destBus) {
        this.record({ ...base, kind: 'event-bus', attempt: 1, outcome: 'failed', error: `ResourceNotFoundException: Event bus ${target.Arn} does not exist.` }, generation);
        return;
      }
      if (hops + 1 > MAX_HOPS) {
        this.record({ ...base, kind: 'event-bus', attempt: 1, outcome: 'failed', error: `Event ${envelope.id} dropped after ${MAX_HOPS} bus-to-bus hops` }, generation);
        return;
      }
      if (generation !== this.generation) return;
      this.record({ ...base, kind: 'event-bus', attempt: 1, outcome: 'forwarded' }, generation);
      this.accept(destRs, destBus, deepCopy(envelope), hops + 1);
      return;
    }
    if (service === 'events' && resource.startsWith('api-destination/')) {
      await this.deliverHttp(rs, rule, target, envelope, receivedAt, base, generation, region, account);
      return;
    }
    this.record({ ...base, kind: 'unsupported', attempt: 1, outcome: 'unsupported-target' }, generation);
  }

  private async deliverHttp(
    rs: RegionState,
    rule: RuleRecord,
    target: TargetRecord,
    envelope: object,
    receivedAt: string,
    base: Omit<DeliveryRecord, 'time' | 'kind' | 'attempt' | 'outcome'>,
    generation: number,
    region: string,
    account: string,
  ): Promise<void> {
    const kind = 'api-destination' as const;
    const destRs = this.state.get(`${account}|${region}`);
    const dest = destRs?.apiDestinations.find((d) => d.Arn === target.Arn || target.Arn.startsWith(`${d.Arn}/`) || d.Arn.startsWith(`${target.Arn}/`));
    if (!dest || region !== rs.region || account !== rs.accountId) {
      this.record({ ...base, kind, attempt: 1, outcome: 'failed', error: `ResourceNotFoundException: API destination ${target.Arn} does not exist in ${rs.region}.` }, generation);
      return;
    }
    const conn = destRs!.connections.find((c) => c.Arn === dest.ConnectionArn);
    if (!conn) {
      this.record({ ...base, kind, attempt: 1, outcome: 'failed', error: `ResourceNotFoundException: Connection ${dest.ConnectionArn} does not exist.` }, generation);
      return;
    }
    const event = envelope as Record<string, unknown>;
    let request: { url: string; method: string; headers: Record<string, string>; body?: string };
    try {
      request = buildRequest(dest, conn, target, event, {
        ruleArn: rule.Arn,
        ruleName: rule.Name,
        ingestionTime: receivedAt,
      });
    } catch (err) {
      this.record({ ...base, kind, attempt: 1, outcome: 'failed', error: (err as Error).message }, generation);
      return;
    }
    const retryCap = target.RetryPolicy?.MaximumRetryAttempts;
    const maxAttempts = typeof retryCap === 'number' ? Math.min(this.maxAttempts, 1 + Math.max(0, retryCap)) : this.maxAttempts;
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      if (generation !== this.generation) return;
      let status: number | undefined;
      let error: string | undefined;
      try {
        const res = await this.fetchImpl(request.url, {
          method: request.method,
          headers: request.headers,
          ...(request.body !== undefined ? { body: request.body } : {}),
          redirect: 'manual',
          signal: AbortSignal.timeout(this.timeoutMs),
        });
        status = res.status;
        await res.arrayBuffer().catch(() => undefined);
      } catch (err) {
        const e = err as Error;
        error = e.name === 'TimeoutError' ? `timeout after ${this.timeoutMs} ms` : `${e.name}: ${e.message}${causeOf(e)}`;
      }
      const ok = status !== undefined && status >= 200 && status < 300;
      const retryable = !ok && (status === undefined || status >= 500 || RETRYABLE_STATUS.has(status));
      const last = attempt === maxAttempts;
      const outcome: DeliveryOutcome = ok ? 'delivered' : retryable && !last ? 'retrying' : 'failed';
      this.record({ ...base, kind, attempt, outcome, method: request.method, url: request.url, ...(status !== undefined ? { status } : {}), ...(error ? { error } : {}) }, generation);
      if (outcome !== 'retrying') return;
      await sleep(this.backoffMs * 2 ** (attempt - 1));
    }
  }

  // -------------------------------------------------------------------------------------------
  // Rules

  private putRule(input: Input, ctx: RequestContext): unknown {
    const rs = this.regionOf(ctx);
    const name = requireString(input, 'Name', RULE_NAME);
    const bus = this.requireBus(rs, input);
    const eventPattern = optionalString(input, 'EventPattern');
    const schedule = optionalString(input, 'ScheduleExpression');
    const state = optionalString(input, 'State') ?? 'ENABLED';
    if (!eventPattern && !schedule) throw validation('Parameter(s) EventPattern or ScheduleExpression must be specified.');
    if (!RULE_STATES.has(state)) {
      throw validation(`1 validation error detected: Value '${state}' at 'state' failed to satisfy constraint: Member must satisfy enum value set: [ENABLED, DISABLED, ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS]`);
    }
    if (schedule !== undefined) {
      if (bus.Name !== 'default') throw validation('ScheduleExpression is supported only on the default event bus.');
      if (!/^(rate\(\s*\d+\s+(minute|minutes|hour|hours|day|days)\s*\)|cron\(.+\))$/.test(schedule)) {
        throw validation('Parameter ScheduleExpression is not valid.');
      }
    }
    let compiled: CompiledPattern | undefined;
    if (eventPattern !== undefined) {
      if (eventPattern.length > MAX_EVENT_PATTERN_LENGTH) {
        throw validation(`1 validation error detected: Value at 'eventPattern' failed to satisfy constraint: Member must have length less than or equal to ${MAX_EVENT_PATTERN_LENGTH}`);
      }
      compiled = compilePatternOrThrow(eventPattern);
    }
    const tags = parseTags(input.Tags);
    const existing = bus.Rules.find((r) => r.Name === name);
    const rule: RuleRecord = clean({
      Name: name,
      Arn: this.ruleArn(rs, bus.Name, name),
      EventBusName: bus.Name,
      EventPattern: eventPattern,
      ScheduleExpression: schedule,
      State: state,
      Description: optionalString(input, 'Description'),
      RoleArn: optionalString(input, 'RoleArn'),
      CreatedBy: rs.accountId,
      // Tags are only applied when the rule is created (AWS ignores them on update).
      Tags: existing ? existing.Tags : tags,
      Targets: existing ? existing.Targets : [],
    });
    if (existing) bus.Rules[bus.Rules.indexOf(existing)] = rule;
    else bus.Rules.push(rule);
    if (compiled) this.compiled.set(rule, compiled);
    return { RuleArn: rule.Arn };
  }

  private describeRule(input: Input, ctx: RequestContext): unknown {
    const { rule } = this.requireRule(this.regionOf(ctx), input);
    return describeRuleOutput(rule);
  }

  private listRules(input: Input, ctx: RequestContext): unknown {
    const bus = this.requireBus(this.regionOf(ctx), input);
    const prefix = optionalString(input, 'NamePrefix') ?? '';
    const rules = bus.Rules.filter((r) => r.Name.startsWith(prefix)).sort((a, b) => a.Name.localeCompare(b.Name));
    const page = paginate(rules, input);
    return clean({ Rules: page.items.map(describeRuleOutput), NextToken: page.nextToken });
  }

  private deleteRule(input: Input, ctx: RequestContext): unknown {
    const rs = this.regionOf(ctx);
    const bus = this.requireBus(rs, input);
    const name = requireString(input, 'Name', RULE_NAME);
    const rule = bus.Rules.find((r) => r.Name === name);
    if (!rule) return {}; // DeleteRule is idempotent
    if (rule.Targets.length > 0 && input.Force !== true) throw validation("Rule can't be deleted since it has targets.");
    bus.Rules.splice(bus.Rules.indexOf(rule), 1);
    return {};
  }

  private setRuleState(input: Input, ctx: RequestContext, state: 'ENABLED' | 'DISABLED'): unknown {
    const { rule } = this.requireRule(this.regionOf(ctx), input);
    rule.State = state;
    return {};
  }

  private testEventPattern(input: Input): unknown {
    const patternText = requireString(input, 'EventPattern');
    const eventText = requireString(input, 'Event');
    const pattern = compilePatternOrThrow(patternText);
    let event: unknown;
    try {
      event = JSON.parse(eventText);
    } catch {
      throw validation('Parameter Event is not valid.');
    }
    if (!event || typeof event !== 'object' || Array.isArray(event)) throw validation('Parameter Event is not valid.');
    for (const field of ['id', 'account', 'source', 'time', 'region', 'detail-type']) {
      if (!(field in event)) throw validation(`Parameter Event is not valid. Reason: Event is missing the mandatory field ${field}.`);
    }
    return { Result: matchesPattern(pattern, event) };
  }

  // -------------------------------------------------------------------------------------------
  // Targets

  private putTargets(input: Input, ctx: RequestContext): unknown {
    const { rule } = this.requireRule(this.regionOf(ctx), input, 'Rule');
    const targets = input.Targets;
    if (!Array.isArray(targets) || targets.length === 0 || targets.length > 10) {
      throw validation("1 validation error detected: Value at 'targets' failed to satisfy constraint: Member must have length between 1 and 10");
    }
    const failed: Array<{ TargetId: string; ErrorCode: string; ErrorMessage: string }> = [];
    const accepted: TargetRecord[] = [];
    for (const raw of targets as unknown[]) {
      const t = (raw ?? {}) as Input;
      if (typeof t.Id !== 'string' || !TARGET_ID.test(t.Id)) {
        throw validation(`1 validation error detected: Value '${String(t.Id)}' at 'targets.member.id' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\.\\-_A-Za-z0-9]+`);
      }
      if (typeof t.Arn !== 'string' || t.Arn.length === 0 || t.Arn.length > 1600) {
        throw validation(`1 validation error detected: Value at 'targets.member.arn' failed to satisfy constraint: Member must have length between 1 and 1600`);
      }
      const problem = validateTarget(t);
      if (problem) {
        failed.push({ TargetId: t.Id, ErrorCode: 'ValidationException', ErrorMessage: problem });
        continue;
      }
      accepted.push(deepCopy(t) as TargetRecord);
    }
    const ids = new Set([...rule.Targets.map((t) => t.Id), ...accepted.map((t) => t.Id)]);
    if (ids.size > MAX_TARGETS_PER_RULE) {
      throw new LabError('LimitExceededException', 'The requested resource exceeds the maximum number allowed.');
    }
    for (const t of accepted) {
      const i = rule.Targets.findIndex((x) => x.Id === t.Id);
      if (i >= 0) rule.Targets[i] = t;
      else rule.Targets.push(t);
    }
    return { FailedEntryCount: failed.length, FailedEntries: failed };
  }

  private removeTargets(input: Input, ctx: RequestContext): unknown {
    const { rule } = this.requireRule(this.regionOf(ctx), input, 'Rule');
    const ids = input.Ids;
    if (!Array.isArray(ids) || ids.length === 0 || ids.length > 100 || !ids.every((i) => typeof i === 'string')) {
      throw validation("1 validation error detected: Value at 'ids' failed to satisfy constraint: Member must have length between 1 and 100");
    }
    rule.Targets = rule.Targets.filter((t) => !ids.includes(t.Id));
    return { FailedEntryCount: 0, FailedEntries: [] };
  }

  private listTargetsByRule(input: Input, ctx: RequestContext): unknown {
    const { rule } = this.requireRule(this.regionOf(ctx), input, 'Rule');
    const page = paginate(rule.Targets, input);
    return clean({ Targets: deepCopy(page.items), NextToken: page.nextToken });
  }

  private listRuleNamesByTarget(input: Input, ctx: RequestContext): unknown {
    const arn = requireString(input, 'TargetArn');
    const bus = this.requireBus(this.regionOf(ctx), input);
    const names = bus.Rules.filter((r) => r.Targets.some((t) => t.Arn === arn)).map((r) => r.Name).sort();
    const page = paginate(names, input);
    return clean({ RuleNames: page.items, NextToken: page.nextToken });
  }

  // -------------------------------------------------------------------------------------------
  // Event buses

  private createEventBus(input: Input, ctx: RequestContext): unknown {
    const rs = this.regionOf(ctx);
    const name = requireString(input, 'Name', BUS_NAME);
    if (this.findBus(rs, name)) throw new LabError('ResourceAlreadyExistsException', `Event bus ${name} already exists.`);
    if (name.includes('/') && !name.startsWith('aws.partner/')) {
      throw validation(`Event bus name ${name} is not valid: '/' is only allowed in partner event bus names.`);
    }
    const now = this.clock.now();
    const bus: BusRecord = clean({
      Name: name,
      Arn: `arn:aws:events:${rs.region}:${rs.accountId}:event-bus/${name}`,
      Description: optionalString(input, 'Description'),
      CreationTime: now,
      LastModifiedTime: now,
      Tags: parseTags(input.Tags),
      Rules: [],
    });
    rs.buses.push(bus);
    return clean({ EventBusArn: bus.Arn, Description: bus.Description });
  }

  private describeEventBus(input: Input, ctx: RequestContext): unknown {
    const bus = this.requireBus(this.regionOf(ctx), input, 'Name');
    return describeBusOutput(bus);
  }

  private deleteEventBus(input: Input, ctx: RequestContext): unknown {
    const rs = this.regionOf(ctx);
    const name = this.busName(rs, input, 'Name');
    if (name === 'default') throw validation('Cannot delete event bus default.');
    rs.buses = rs.buses.filter((b) => b.Name !== name);
    return {};
  }

  private listEventBuses(input: Input, ctx: RequestContext): unknown {
    const prefix = optionalString(input, 'NamePrefix') ?? '';
    const buses = this.regionOf(ctx).buses.filter((b) => b.Name.startsWith(prefix)).sort((a, b) => a.Name.localeCompare(b.Name));
    const page = paginate(buses, input);
    return clean({ EventBuses: page.items.map(describeBusOutput), NextToken: page.nextToken });
  }

  // -------------------------------------------------------------------------------------------
  // Connections

  private requireConnection(rs: RegionState, input: Input): ConnectionRecord {
    const name = requireString(input, 'Name', RULE_NAME);
    const conn = rs.connections.find((c) => c.Name === name);
    if (!conn) throw notFound(`Failed to describe the connection(s). Connection '${name}' does not exist.`);
    return conn;
  }

  private createConnection(input: Input, ctx: RequestContext): unknown {
    const rs = this.regionOf(ctx);
    const name = requireString(input, 'Name', RULE_NAME);
    if (rs.connections.some((c) => c.Name === name)) {
      throw new LabError('ResourceAlreadyExistsException', `Connection ${name} already exists.`);
    }
    const type = requireString(input, 'AuthorizationType');
    if (!AUTH_TYPES.has(type)) {
      throw validation(`1 validation error detected: Value '${type}' at 'authorizationType' failed to satisfy constraint: Member must satisfy enum value set: [BASIC, OAUTH_CLIENT_CREDENTIALS, API_KEY]`);
    }
    const auth = validateAuthParameters(type, input.AuthParameters, true);
    const now = this.clock.now();
    const id = randomUUID();
    const conn: ConnectionRecord = clean({
      Name: name,
      Arn: `arn:aws:events:${rs.region}:${rs.accountId}:connection/${name}/${id}`,
      Description: optionalString(input, 'Description'),
      AuthorizationType: type,
      AuthParameters: auth,
      ConnectionState: 'AUTHORIZED',
      SecretArn: `arn:aws:secretsmanager:${rs.region}:${rs.accountId}:secret:events!connection/${name}/${id}-${randomSuffix()}`,
      CreationTime: now,
      LastModifiedTime: now,
      LastAuthorizedTime: now,
    });
    rs.connections.push(conn);
    return connectionSummary(conn);
  }

  private updateConnection(input: Input, ctx: RequestContext): unknown {
    const conn = this.requireConnection(this.regionOf(ctx), input);
    const type = optionalString(input, 'AuthorizationType') ?? conn.AuthorizationType;
    if (!AUTH_TYPES.has(type)) throw validation(`Value '${type}' at 'authorizationType' failed to satisfy constraint`);
    if (input.AuthParameters !== undefined || type !== conn.AuthorizationType) {
      const merged = mergeAuth(type === conn.AuthorizationType ? conn.AuthParameters : {}, (input.AuthParameters ?? {}) as AuthParameters);
      conn.AuthParameters = validateAuthParameters(type, merged, true);
      conn.AuthorizationType = type;
    }
    const description = optionalString(input, 'Description');
    if (description !== undefined) conn.Description = description;
    const now = this.clock.now();
    conn.LastModifiedTime = now;
    conn.LastAuthorizedTime = now;
    return { ...connectionSummary(conn), LastAuthorizedTime: epochSeconds(conn.LastAuthorizedTime) };
  }

  private describeConnection(input: Input, ctx: RequestContext): unknown {
    const conn = this.requireConnection(this.regionOf(ctx), input);
    return clean({
      ConnectionArn: conn.Arn,
      Name: conn.Name,
      Description: conn.Description,
      ConnectionState: conn.ConnectionState,
      AuthorizationType: conn.AuthorizationType,
      SecretArn: conn.SecretArn,
      AuthParameters: redactAuth(conn.AuthParameters),
      CreationTime: epochSeconds(conn.CreationTime),
      LastModifiedTime: epochSeconds(conn.LastModifiedTime),
      LastAuthorizedTime: epochSeconds(conn.LastAuthorizedTime),
    });
  }

  private deleteConnection(input: Input, ctx: RequestContext): unknown {
    const rs = this.regionOf(ctx);
    const conn = this.requireConnection(rs, input);
    rs.connections = rs.connections.filter((c) => c !== conn);
    return {
      ConnectionArn: conn.Arn,
      ConnectionState: 'DELETING',
      CreationTime: epochSeconds(conn.CreationTime),
      LastModifiedTime: epochSeconds(this.clock.now()),
      LastAuthorizedTime: epochSeconds(conn.LastAuthorizedTime),
    };
  }

  private listConnections(input: Input, ctx: RequestContext): unknown {
    const prefix = optionalString(input, 'NamePrefix') ?? '';
    const state = optionalString(input, 'ConnectionState');
    const conns = this.regionOf(ctx).connections
      .filter((c) => c.Name.startsWith(prefix) && (state === undefined || c.ConnectionState === state))
      .sort((a, b) => a.Name.localeCompare(b.Name));
    const page = paginate(conns, input);
    return clean({
      Connections: page.items.map((c) => clean({
        ConnectionArn: c.Arn,
        Name: c.Name,
        ConnectionState: c.ConnectionState,
        AuthorizationType: c.AuthorizationType,
        CreationTime: epochSeconds(c.CreationTime),
        LastModifiedTime: epochSeconds(c.LastModifiedTime),
        LastAuthorizedTime: epochSeconds(c.LastAuthorizedTime),
      })),
      NextToken: page.nextToken,
    });
  }

  // -------------------------------------------------------------------------------------------
  // API destinations

  private requireDestination(rs: RegionState, input: Input): ApiDestinationRecord {
    const name = requireString(input, 'Name', RULE_NAME);
    const dest = rs.apiDestinations.find((d) => d.Name === name);
    if (!dest) throw notFound(`Failed to describe the api-destination(s). An api-destination '${name}' does not exist.`);
    return dest;
  }

  private createApiDestination(input: Input, ctx: RequestContext): unknown {
    const rs = this.regionOf(ctx);
    const name = requireString(input, 'Name', RULE_NAME);
    if (rs.apiDestinations.some((d) => d.Name === name)) {
      throw new LabError('ResourceAlreadyExistsException', `An api-destination '${name}' already exists.`);
    }
    const connectionArn = requireString(input, 'ConnectionArn');
    if (!rs.connections.some((c) => c.Arn === connectionArn)) {
      throw notFound(`Connection '${connectionArn}' does not exist.`);
    }
    const endpoint = validateEndpoint(requireString(input, 'InvocationEndpoint'));
    const method = validateMethod(requireString(input, 'HttpMethod'));
    const rate = validateRate(input.InvocationRateLimitPerSecond);
    const now = this.clock.now();
    const dest: ApiDestinationRecord = clean({
      Name: name,
      Arn: `arn:aws:events:${rs.region}:${rs.accountId}:api-destination/${name}/${randomUUID()}`,
      Description: optionalString(input, 'Description'),
      ConnectionArn: connectionArn,
      InvocationEndpoint: endpoint,
      HttpMethod: method,
      InvocationRateLimitPerSecond: rate ?? 300,
      ApiDestinationState: 'ACTIVE',
      CreationTime: now,
      LastModifiedTime: now,
    });
    rs.apiDestinations.push(dest);
    return destinationSummary(dest);
  }

  private updateApiDestination(input: Input, ctx: RequestContext): unknown {
    const rs = this.regionOf(ctx);
    const dest = this.requireDestination(rs, input);
    const connectionArn = optionalString(input, 'ConnectionArn');
    if (connectionArn !== undefined) {
      if (!rs.connections.some((c) => c.Arn === connectionArn)) throw notFound(`Connection '${connectionArn}' does not exist.`);
      dest.ConnectionArn = connectionArn;
    }
    const endpoint = optionalString(input, 'InvocationEndpoint');
    if (endpoint !== undefined) dest.InvocationEndpoint = validateEndpoint(endpoint);
    const method = optionalString(input, 'HttpMethod');
    if (method !== undefined) dest.HttpMethod = validateMethod(method);
    const rate = validateRate(input.InvocationRateLimitPerSecond);
    if (rate !== undefined) dest.InvocationRateLimitPerSecond = rate;
    const description = optionalString(input, 'Description');
    if (description !== undefined) dest.Description = description;
    dest.LastModifiedTime = this.clock.now();
    return destinationSummary(dest);
  }

  private describeApiDestination(input: Input, ctx: RequestContext): unknown {
    const d = this.requireDestination(this.regionOf(ctx), input);
    return destinationOutput(d);
  }

  private deleteApiDestination(input: Input, ctx: RequestContext): unknown {
    const rs = this.regionOf(ctx);
    const dest = this.requireDestination(rs, input);
    rs.apiDestinations = rs.apiDestinations.filter((d) => d !== dest);
    return {};
  }

  private listApiDestinations(input: Input, ctx: RequestContext): unknown {
    const prefix = optionalString(input, 'NamePrefix') ?? '';
    const connectionArn = optionalString(input, 'ConnectionArn');
    const dests = this.regionOf(ctx).apiDestinations
      .filter((d) => d.Name.startsWith(prefix) && (connectionArn === undefined || d.ConnectionArn === connectionArn))
      .sort((a, b) => a.Name.localeCompare(b.Name));
    const page = paginate(dests, input);
    return clean({
      ApiDestinations: page.items.map((d) => {
        const { Description: _d, ...rest } = destinationOutput(d) as Record<string, unknown>;
        return { ...rest, ApiDestinationArn: d.Arn };
      }),
      NextToken: page.nextToken,
    });
  }

  // -------------------------------------------------------------------------------------------
  // Tags (rules and event buses)

  private taggable(rs: RegionState, arn: string): { Tags: Tag[] } {
    for (const bus of rs.buses) {
      if (bus.Arn === arn) return bus;
      const rule = bus.Rules.find((r) => r.Arn === arn);
      if (rule) return rule;
    }
    throw notFound(`Resource ${arn} does not exist.`);
  }

  private tagResource(input: Input, ctx: RequestContext): unknown {
    const res = this.taggable(this.regionOf(ctx), requireString(input, 'ResourceARN'));
    for (const tag of parseTags(input.Tags)) {
      const existing = res.Tags.find((t) => t.Key === tag.Key);
      if (existing) existing.Value = tag.Value;
      else res.Tags.push(tag);
    }
    return {};
  }

  private untagResource(input: Input, ctx: RequestContext): unknown {
    const res = this.taggable(this.regionOf(ctx), requireString(input, 'ResourceARN'));
    const keys = Array.isArray(input.TagKeys) ? input.TagKeys : [];
    res.Tags = res.Tags.filter((t) => !keys.includes(t.Key));
    return {};
  }

  private listTagsForResource(input: Input, ctx: RequestContext): unknown {
    const res = this.taggable(this.regionOf(ctx), requireString(input, 'ResourceARN'));
    return { Tags: deepCopy(res.Tags) };
  }
}

// ---------------------------------------------------------------------------------------------
// Helpers (pure)

function lowerFirst(s: string): string {
  return s.charAt(0).toLowerCase() + s.slice(1);
}

function requireString(input: Input, field: string, pattern?: RegExp): string {
  const v = input[field];
  if (v === undefined || v === null || v === '') {
    throw validation(`1 validation error detected: Value null at '${lowerFirst(field)}' failed to satisfy constraint: Member must not be null`);
  }
  if (typeof v !== 'string') throw validation(`Parameter ${field} must be a string.`);
  if (pattern && !pattern.test(v)) {
    throw validation(`1 validation error detected: Value '${v}' at '${lowerFirst(field)}' failed to satisfy constraint: Member must satisfy regular expression pattern: ${pattern.source}`);
  }
  return v;
}

function optionalString(input: Input, field: string): string | undefined {
  const v = input[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw validation(`Parameter ${field} must be a string.`);
  return v;
}

function compilePatternOrThrow(text: string): CompiledPattern {
  try {
    return parseEventPattern(text);
  } catch (err) {
    if (err instanceof EventPatternError) throw new LabError('InvalidEventPatternException', err.message);
    throw err;
  }
}

function parseTags(raw: unknown): Tag[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) throw validation('Tags must be a list.');
  return raw.map((t: unknown) => {
    const tag = (t ?? {}) as Input;
    if (typeof tag.Key !== 'string' || tag.Key === '' || typeof tag.Value !== 'string') {
      throw validation('Each tag needs a Key and a Value.');
    }
    return { Key: tag.Key, Value: tag.Value };
  });
}

function paginate<T>(items: T[], input: Input): { items: T[]; nextToken?: string } {
  const limit = input.Limit;
  if (limit !== undefined && (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > 100)) {
    throw validation(`1 validation error detected: Value '${String(limit)}' at 'limit' failed to satisfy constraint: Member must have value between 1 and 100`);
  }
  let start = 0;
  if (typeof input.NextToken === 'string' && input.NextToken !== '') {
    const decoded = Number(Buffer.from(input.NextToken, 'base64url').toString('utf8').replace(/^lab:/, ''));
    if (!Number.isInteger(decoded) || decoded < 0) throw validation('The NextToken provided is not valid.');
    start = decoded;
  }
  const size = typeof limit === 'number' ? limit : 100;
  const page = items.slice(start, start + size);
  const next = start + size < items.length ? Buffer.from(`lab:${start + size}`).toString('base64url') : undefined;
  return next === undefined ? { items: page } : { items: page, nextToken: next };
}

function describeRuleOutput(rule: RuleRecord): unknown {
  return clean({
    Name: rule.Name,
    Arn: rule.Arn,
    EventPattern: rule.EventPattern,
    ScheduleExpression: rule.ScheduleExpression,
    State: rule.State,
    Description: rule.Description,
    RoleArn: rule.RoleArn,
    EventBusName: rule.EventBusName,
    CreatedBy: rule.CreatedBy,
  });
}

function describeBusOutput(bus: BusRecord): unknown {
  return clean({
    Name: bus.Name,
    Arn: bus.Arn,
    Description: bus.Description,
    CreationTime: epochSeconds(bus.CreationTime),
    LastModifiedTime: epochSeconds(bus.LastModifiedTime),
  });
}

function validateTarget(t: Input): string | undefined {
  const transforms = ['Input', 'InputPath', 'InputTransformer'].filter((k) => t[k] !== undefined && t[k] !== null);
  if (transforms.length > 1) return `Target ${String(t.Id)}: only one of Input, InputPath and InputTransformer may be set.`;
  if (t.Input !== undefined) {
    if (typeof t.Input !== 'string') return 'Input must be a string.';
    try {
      JSON.parse(t.Input);
    } catch {
      return `Target ${String(t.Id)}: Input is not valid JSON text.`;
    }
  }
  if (t.InputPath !== undefined) {
    try {
      parseJsonPath(t.InputPath as string);
    } catch {
      return `Target ${String(t.Id)}: InputPath is not a valid JSONPath: ${String(t.InputPath)}`;
    }
  }
  if (t.InputTransformer !== undefined) {
    const problem = validateInputTransformer(t.InputTransformer);
    if (problem) return `Target ${String(t.Id)}: ${problem}`;
  }
  const http = t.HttpParameters as Input | undefined;
  if (http !== undefined) {
    if (!http || typeof http !== 'object') return 'HttpParameters must be an object.';
    if (http.PathParameterValues !== undefined && (!Array.isArray(http.PathParameterValues) || !http.PathParameterValues.every((v) => typeof v === 'string'))) {
      return 'HttpParameters.PathParameterValues must be a list of strings.';
    }
    for (const key of ['HeaderParameters', 'QueryStringParameters']) {
      const map = http[key];
      if (map !== undefined && (!map || typeof map !== 'object' || Array.isArray(map) || !Object.values(map).every((v) => typeof v === 'string'))) {
        return `HttpParameters.${key} must be a map of strings.`;
      }
    }
  }
  const retry = t.RetryPolicy as Input | undefined;
  if (retry !== undefined) {
    const attempts = retry.MaximumRetryAttempts;
    if (attempts !== undefined && (typeof attempts !== 'number' || attempts < 0 || attempts > 185)) {
      return 'RetryPolicy.MaximumRetryAttempts must be between 0 and 185.';
    }
    const age = retry.MaximumEventAgeInSeconds;
    if (age !== undefined && (typeof age !== 'number' || age < 60 || age > 86400)) {
      return 'RetryPolicy.MaximumEventAgeInSeconds must be between 60 and 86400.';
    }
  }
  return undefined;
}

function validateAuthParameters(type: string, raw: unknown, requireSecrets: boolean): AuthParameters {
  if (!raw || typeof raw !== 'object') throw validation('AuthParameters is required.');
  const auth = deepCopy(raw) as AuthParameters;
  if (type === 'API_KEY') {
    const p = auth.ApiKeyAuthParameters;
    if (!p || typeof p.ApiKeyName !== 'string' || p.ApiKeyName === '' || (requireSecrets && (typeof p.ApiKeyValue !== 'string' || p.ApiKeyValue === ''))) {
      throw validation('ApiKeyAuthParameters with ApiKeyName and ApiKeyValue are required for AuthorizationType API_KEY.');
    }
  } else if (type === 'BASIC') {
    const p = auth.BasicAuthParameters;
    if (!p || typeof p.Username !== 'string' || p.Username === '' || (requireSecrets && (typeof p.Password !== 'string' || p.Password === ''))) {
      throw validation('BasicAuthParameters with Username and Password are required for AuthorizationType BASIC.');
    }
  } else {
    const p = auth.OAuthParameters;
    if (!p || !p.ClientParameters || typeof p.AuthorizationEndpoint !== 'string' || typeof p.HttpMethod !== 'string') {
      throw validation('OAuthParameters with ClientParameters, AuthorizationEndpoint and HttpMethod are required for AuthorizationType OAUTH_CLIENT_CREDENTIALS.');
    }
  }
  for (const group of ['HeaderParameters', 'QueryStringParameters', 'BodyParameters'] as const) {
    const list = auth.InvocationHttpParameters?.[group];
    if (list !== undefined && (!Array.isArray(list) || !list.every((p) => p && typeof p.Key === 'string'))) {
      throw validation(`InvocationHttpParameters.${group} must be a list of {Key, Value, IsValueSecret}.`);
    }
  }
  return auth;
}

function mergeAuth(current: AuthParameters, update: AuthParameters): AuthParameters {
  const out: AuthParameters = deepCopy(current);
  for (const key of Object.keys(update) as Array<keyof AuthParameters>) {
    const value = update[key];
    if (value && typeof value === 'object' && !Array.isArray(value)) {
      (out as Record<string, unknown>)[key] = { ...((out[key] as object | undefined) ?? {}), ...deepCopy(value) };
    }
  }
  return out;
}

/** What DescribeConnection shows: never the API key value, password, client secret or secret parameters. */
function redactAuth(auth: AuthParameters): AuthParameters {
  const out: AuthParameters = {};
  if (auth.ApiKeyAuthParameters) out.ApiKeyAuthParameters = { ApiKeyName: auth.ApiKeyAuthParameters.ApiKeyName! };
  if (auth.BasicAuthParameters) out.BasicAuthParameters = { Username: auth.BasicAuthParameters.Username! };
  if (auth.OAuthParameters) {
    const o = auth.OAuthParameters;
    out.OAuthParameters = clean({
      ClientParameters: { ClientID: o.ClientParameters?.ClientID ?? '' },
      AuthorizationEndpoint: o.AuthorizationEndpoint,
      HttpMethod: o.HttpMethod,
      OAuthHttpParameters: o.OAuthHttpParameters ? redactHttp(o.OAuthHttpParameters) : undefined,
    });
  }
  if (auth.InvocationHttpParameters) out.InvocationHttpParameters = redactHttp(auth.InvocationHttpParameters);
  return out;
}

function redactHttp(p: InvocationHttpParameters): InvocationHttpParameters {
  const hide = (list?: ConnectionParam[]) =>
    list?.map((x) => (x.IsValueSecret ? { Key: x.Key, IsValueSecret: true } : { ...x }));
  return clean({
    HeaderParameters: hide(p.HeaderParameters),
    QueryStringParameters: hide(p.QueryStringParameters),
    BodyParameters: hide(p.BodyParameters),
  });
}

function connectionSummary(conn: ConnectionRecord): Record<string, unknown> {
  return {
    ConnectionArn: conn.Arn,
    ConnectionState: conn.ConnectionState,
    CreationTime: epochSeconds(conn.CreationTime),
    LastModifiedTime: epochSeconds(conn.LastModifiedTime),
  };
}

function destinationSummary(d: ApiDestinationRecord): unknown {
  return {
    ApiDestinationArn: d.Arn,
    ApiDestinationState: d.ApiDestinationState,
    CreationTime: epochSeconds(d.CreationTime),
    LastModifiedTime: epochSeconds(d.LastModifiedTime),
  };
}

function destinationOutput(d: ApiDestinationRecord): unknown {
  return clean({
    ApiDestinationArn: d.Arn,
    Name: d.Name,
    Description: d.Description,
    ApiDestinationState: d.ApiDestinationState,
    ConnectionArn: d.ConnectionArn,
    InvocationEndpoint: d.InvocationEndpoint,
    HttpMethod: d.HttpMethod,
    InvocationRateLimitPerSecond: d.InvocationRateLimitPerSecond,
    CreationTime: epochSeconds(d.CreationTime),
    LastModifiedTime: epochSeconds(d.LastModifiedTime),
  });
}

/** AWS requires HTTPS; the lab also accepts http:// so that local receivers work. */
function validateEndpoint(endpoint: string): string {
  let url: URL;
  try {
    url = new URL(endpoint.replace(/\*/g, 'x'));
  } catch {
    throw validation(`1 validation error detected: Value '${endpoint}' at 'invocationEndpoint' failed to satisfy constraint: Member must be a valid URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw validation(`InvocationEndpoint ${endpoint} must use HTTPS.`);
  }
  return endpoint;
}

function validateMethod(method: string): string {
  if (!HTTP_METHODS.has(method)) {
    throw validation(`1 validation error detected: Value '${method}' at 'httpMethod' failed to satisfy constraint: Member must satisfy enum value set: [POST, GET, HEAD, OPTIONS, PUT, PATCH, DELETE]`);
  }
  return method;
}

function validateRate(raw: unknown): number | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (typeof raw !== 'number' || !Number.isInteger(raw) || raw < 1) {
    throw validation(`1 validation error detected: Value '${String(raw)}' at 'invocationRateLimitPerSecond' failed to satisfy constraint: Member must have value greater than or equal to 1`);
  }
  return raw;
}

/** A header/query/path value: literal, or a JSONPath into the original event when it starts with `$.`. */
function dynamicValue(value: string, event: Record<string, unknown>): string {
  if (!value.startsWith('$.')) return value;
  const v = evaluateJsonPath(value, event);
  if (v === undefined || v === null) return '';
  return typeof v === 'string' ? v : JSON.stringify(v);
}

function buildRequest(
  dest: ApiDestinationRecord,
  conn: ConnectionRecord,
  target: TargetRecord,
  event: Record<string, unknown>,
  tctx: { ruleArn: string; ruleName: string; ingestionTime: string },
): { url: string; method: string; headers: Record<string, string>; body?: string } {
  const http = target.HttpParameters ?? {};
  const pathValues = [...(http.PathParameterValues ?? [])];
  const endpoint = dest.InvocationEndpoint.replace(/\*/g, () => encodeURIComponent(dynamicValue(pathValues.shift() ?? '', event)));
  const url = new URL(endpoint);
  const invocation = conn.AuthParameters.InvocationHttpParameters ?? {};
  for (const p of invocation.QueryStringParameters ?? []) url.searchParams.append(p.Key, p.Value ?? '');
  for (const [k, v] of Object.entries(http.QueryStringParameters ?? {})) url.searchParams.append(k, dynamicValue(v, event));

  const headers: Record<string, string> = {
    'content-type': 'application/json; charset=utf-8',
    'user-agent': 'Amazon/EventBridge/ApiDestinations',
  };
  for (const p of invocation.HeaderParameters ?? []) headers[p.Key.toLowerCase()] = p.Value ?? '';
  for (const [k, v] of Object.entries(http.HeaderParameters ?? {})) headers[k.toLowerCase()] = dynamicValue(v, event);
  const auth = conn.AuthParameters;
  if (conn.AuthorizationType === 'API_KEY') {
    headers[auth.ApiKeyAuthParameters!.ApiKeyName!.toLowerCase()] = auth.ApiKeyAuthParameters!.ApiKeyValue ?? '';
  } else if (conn.AuthorizationType === 'BASIC') {
    const b = auth.BasicAuthParameters!;
    headers.authorization = `Basic ${Buffer.from(`${b.Username}:${b.Password}`).toString('base64')}`;
  } else {
    throw new Error('OAUTH_CLIENT_CREDENTIALS connections are not emulated by the lab (no token endpoint call).');
  }

  let body: string | undefined = targetInput(target, event, tctx);
  const bodyParams = invocation.BodyParameters ?? [];
  if (bodyParams.length > 0) {
    try {
      const parsed: unknown = JSON.parse(body);
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) {
        for (const p of bodyParams) (parsed as Record<string, unknown>)[p.Key] = p.Value ?? '';
        body = JSON.stringify(parsed);
      }
    } catch {
      // not a JSON object: body parameters do not apply
    }
  }
  if (dest.HttpMethod === 'GET' || dest.HttpMethod === 'HEAD') body = undefined;
  return { url: url.toString(), method: dest.HttpMethod, headers, ...(body !== undefined ? { body } : {}) };
}

function randomSuffix(): string {
  const chars = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
  let s = '';
  for (let i = 0; i < 6; i++) s += chars[Math.floor(Math.random() * chars.length)];
  return s;
}

function causeOf(e: Error): string {
  const cause = (e as { cause?: unknown }).cause;
  if (cause instanceof Error) return ` (${cause.message})`;
  return '';
}

/** Drops the oldest entries once a log is 10% over its bound (not on every push). */
function trim(log: unknown[], max: number): void {
  if (log.length > max + Math.ceil(max / 10)) log.splice(0, log.length - max);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    t.unref?.();
  });
}

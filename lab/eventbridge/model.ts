/**
 * The lab EventBridge's types: what its public API returns (logged events, delivery records, options)
 * and its state per account and Region (JSON-plain, so a snapshot is a deep copy).
 */
import type { LabClock } from '../types.js';
import type { InputTransformer } from './transform.js';

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

interface DeliveryOptions {
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

// State (JSON-plain, so snapshot() is a deep copy)

export interface Tag {
  Key: string;
  Value: string;
}

export interface TargetRecord {
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

export interface RuleRecord {
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

export interface BusRecord {
  Name: string;
  Arn: string;
  Description?: string;
  CreationTime: number;
  LastModifiedTime: number;
  Tags: Tag[];
  Rules: RuleRecord[];
}

export interface ConnectionParam {
  Key: string;
  Value?: string;
  IsValueSecret?: boolean;
}

export interface InvocationHttpParameters {
  HeaderParameters?: ConnectionParam[];
  QueryStringParameters?: ConnectionParam[];
  BodyParameters?: ConnectionParam[];
}

export interface AuthParameters {
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

export interface ConnectionRecord {
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

export interface ApiDestinationRecord {
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

export interface RegionState {
  accountId: string;
  region: string;
  buses: BusRecord[];
  connections: ConnectionRecord[];
  apiDestinations: ApiDestinationRecord[];
}

export interface Snapshot {
  version: 1;
  regions: RegionState[];
}

export type Input = Record<string, unknown>;

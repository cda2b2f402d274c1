/**
 * Events that reach secrets-dr from EventBridge (through `secrets-dr receiver` or the Lambda
 * handler): CloudWatch alarm state changes and AWS Health issues. Validated with zod; a valid
 * event becomes a `RecoveryHint` for the recover workflow — a hint, never a decision (invariant 7).
 * For AWS Health the affected Region is `detail.eventRegion`; the envelope `region` is only where
 * the copy was delivered.
 */
import { z } from 'zod';
import type { Plan } from './plan.js';
import { planRegions } from './plan.js';

const text = (max = 1_024) => z.string().max(max);

const envelope = {
  version: text(16).optional(),
  id: text(128).min(1),
  account: text(32).optional(),
  time: text(64).optional(),
  region: text(64).min(1),
  resources: z.array(text(2_048)).max(100).optional(),
};

const CloudWatchAlarmEvent = z.object({
  ...envelope,
  source: z.literal('aws.cloudwatch'),
  'detail-type': z.literal('CloudWatch Alarm State Change'),
  detail: z.object({
    alarmName: text(255).min(1),
    state: z.object({ value: z.enum(['ALARM', 'OK', 'INSUFFICIENT_DATA']), reason: text(4_096).optional(), timestamp: text(64).optional() }),
    previousState: z
      .object({ value: text(32) })
      .partial()
      .optional(),
  }),
});
type CloudWatchAlarmEvent = z.infer<typeof CloudWatchAlarmEvent>;

const AwsHealthEvent = z.object({
  ...envelope,
  source: z.literal('aws.health'),
  'detail-type': z.literal('AWS Health Event'),
  detail: z.object({
    eventArn: text(1_600).min(1),
    service: text(64).min(1),
    eventTypeCode: text(256).optional(),
    eventTypeCategory: text(64).min(1),
    eventRegion: text(64).optional(),
    statusCode: text(32).optional(),
    communicationId: text(512).optional(),
  }),
});
type AwsHealthEvent = z.infer<typeof AwsHealthEvent>;

export const InboundEvent = z.discriminatedUnion('source', [CloudWatchAlarmEvent, AwsHealthEvent], {
  error: 'expected an EventBridge event from aws.cloudwatch (CloudWatch Alarm State Change) or aws.health (AWS Health Event)',
});
export type InboundEvent = z.infer<typeof InboundEvent>;

/** What the recover workflow receives as a signal: never the raw event. */
export const RecoveryHint = z.object({
  /** The EventBridge event id (or the monitor's own id). */
  eventId: z.string().max(128),
  /** Duplicates (re-deliveries, the same Health event delivered in two Regions) share this key. */
  dedupKey: z.string().max(2_048),
  kind: z.enum(['alarm', 'health', 'monitor']),
  /** The Region the hint is about (Health: detail.eventRegion). */
  region: z.string(),
  /** Where it was delivered (envelope region), for the record. */
  deliveredIn: z.string().optional(),
  summary: z.string().max(500),
  receivedAt: z.string(),
});
export type RecoveryHint = z.infer<typeof RecoveryHint>;

type HintDecision = { hint: RecoveryHint } | { ignored: string };

/** Turns a valid event into a hint for this plan, or says why it is not one (an OK state, another alarm, another service). */
export function hintFromEvent(plan: Plan, event: InboundEvent, receivedAt: string): HintDecision {
  const regions = new Set(planRegions(plan));
  if (event.source === 'aws.cloudwatch') {
    const { alarmName, state } = event.detail;
    if (!plan.health.alarms.includes(alarmName)) return { ignored: `alarm ${alarmName} is not one of plan ${plan.name}'s health.alarms` };
    if (state.value !== 'ALARM') return { ignored: `alarm ${alarmName} is ${state.value}, not ALARM` };
    if (!regions.has(event.region)) return { ignored: `alarm in ${event.region}, which is not a Region of plan ${plan.name}` };
    const summary = `CloudWatch alarm ${alarmName} in ${event.region} is ALARM`;
    return hintOf(event, 'alarm', event.region, `alarm:${event.region}:${alarmName}:${state.timestamp ?? event.id}`, summary, receivedAt);
  }
  const d = event.detail;
  if (d.service.toUpperCase() !== 'SECRETSMANAGER') return { ignored: `AWS Health event for ${d.service}, not SECRETSMANAGER` };
  if (d.eventTypeCategory !== 'issue') return { ignored: `AWS Health ${d.eventTypeCategory}, not an issue` };
  if (d.statusCode === 'closed') return { ignored: 'AWS Health issue is closed' };
  const affected = d.eventRegion ?? event.region;
  if (!regions.has(affected)) return { ignored: `AWS Health issue in ${affected}, which is not a Region of plan ${plan.name}` };
  // Both delivered copies (affected Region + backup Region) carry the same eventArn and communicationId.
  const dedupKey = `health:${d.eventArn}:${d.communicationId ?? ''}:${d.statusCode ?? ''}`;
  return hintOf(event, 'health', affected, dedupKey, `AWS Health ${d.eventTypeCode ?? 'issue'} for Secrets Manager in ${affected}`, receivedAt);
}

/** The hint an event gives about `region` (delivered in the event's envelope Region). */
function hintOf(event: InboundEvent, kind: 'alarm' | 'health', region: string, dedupKey: string, summary: string, receivedAt: string): HintDecision {
  return { hint: { eventId: event.id, dedupKey, kind, region, deliveredIn: event.region, summary, receivedAt } };
}

/** Header carrying the receiver's API key (the EventBridge connection's ApiKeyName). */
export const RECEIVER_API_KEY_HEADER = 'x-secrets-dr-api-key';
/** Largest event body the receiver reads (EventBridge events are at most 256 KB). */
export const RECEIVER_MAX_BODY_BYTES = 256 * 1024;
/**
 * The answer (receiver and Lambda handler) when the plan an event is for cannot be loaded (invalid
 * YAML, an alias bomb, a schema problem): a 4xx naming the configuration error, since a 5xx would
 * make EventBridge retry for a day and no retry helps until the file is fixed.
 */
export const PLAN_CONFIG_INVALID_STATUS = 422;
/** Path of a plan's events on the receiver. */
export function receiverPath(planName: string): string {
  return `/events/${encodeURIComponent(planName)}`;
}

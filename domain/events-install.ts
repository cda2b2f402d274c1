/**
 * `secrets-dr events install|uninstall`: what is created in every plan Region so that CloudWatch
 * alarms and AWS Health issues reach the receiver (→ recover). Names are derived from the plan, so
 * install is idempotent (describe, then create or update only what differs) and uninstall removes
 * exactly what install made. The API key never travels through Temporal: the activity reads it
 * from the worker's SECRETS_DR_RECEIVER_API_KEY; the input carries only its fingerprint.
 */
import { z } from 'zod';
import { PlanPayload } from './plan.js';
import { RECEIVER_API_KEY_HEADER, receiverPath } from './inbound-events.js';

/** EventBridge names: at most 64 characters of [.\-_A-Za-z0-9]. */
function resourceName(planName: string, suffix: string): string {
  const base = `secrets-dr-${planName}`.replace(/[^.\-_A-Za-z0-9]/g, '-');
  const name = `${base}${suffix}`;
  if (name.length <= 64) return name;
  let h = 0;
  for (const c of planName) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  return `${base.slice(0, 64 - suffix.length - 9)}-${h.toString(36).padStart(8, '0').slice(0, 8)}${suffix}`;
}

export const RECEIVER_TARGET_ID = 'secrets-dr-receiver';

interface EventsInstallNames {
  connection: string;
  destination: string;
  alarmRule: string;
  healthRule: string;
}

export function eventsInstallNames(planName: string): EventsInstallNames {
  return {
    connection: resourceName(planName, ''),
    destination: resourceName(planName, '-receiver'),
    alarmRule: resourceName(planName, '-alarms'),
    healthRule: resourceName(planName, '-health'),
  };
}

/** The plan's CloudWatch alarms entering ALARM (any plan Region: each Region has its own rule). */
export function alarmPattern(alarms: readonly string[]): Record<string, unknown> {
  return { source: ['aws.cloudwatch'], 'detail-type': ['CloudWatch Alarm State Change'], detail: { alarmName: [...alarms], state: { value: ['ALARM'] } } };
}

/** AWS Health issues for Secrets Manager (the affected Region is detail.eventRegion). */
export function healthPattern(): Record<string, unknown> {
  return { source: ['aws.health'], 'detail-type': ['AWS Health Event'], detail: { service: ['SECRETSMANAGER'], eventTypeCategory: ['issue'] } };
}

export function receiverEndpoint(receiverUrl: string, planName: string): string {
  return `${receiverUrl.replace(/\/+$/, '')}${receiverPath(planName)}`;
}

export const EventsInstallInput = z.object({
  plan: PlanPayload,
  action: z.enum(['install', 'uninstall']),
  /** Base URL of `secrets-dr receiver` (install only). */
  receiverUrl: z.string().url().optional(),
  /** sha256 (hex, first 16) of the API key the caller expects the worker to hold; never the key. */
  apiKeyFingerprint: z
    .string()
    .regex(/^[0-9a-f]{16}$/)
    .optional(),
  /** IAM role EventBridge assumes to invoke the API destination (required on AWS; the lab ignores it). */
  roleArn: z.string().optional(),
  taskQueuePrefix: z.string().optional(),
});
export type EventsInstallInput = z.input<typeof EventsInstallInput>;

export const RegionInstallResult = z.object({
  region: z.string(),
  created: z.array(z.string()),
  updated: z.array(z.string()),
  unchanged: z.array(z.string()),
  removed: z.array(z.string()),
  error: z.string().optional(),
});
export type RegionInstallResult = z.infer<typeof RegionInstallResult>;

export const EventsInstallReport = z.object({
  plan: z.string(),
  action: z.enum(['install', 'uninstall']),
  endpoint: z.string().optional(),
  apiKeyHeader: z.string(),
  regions: z.array(RegionInstallResult),
});
export type EventsInstallReport = z.infer<typeof EventsInstallReport>;

export { RECEIVER_API_KEY_HEADER };

/**
 * Realistic AWS-originated events the lab can inject: AWS Health and CloudWatch alarm state
 * changes, shaped like the examples in the AWS Health user guide ("Reference: AWS Health
 * Amazon EventBridge event schema") and the CloudWatch user guide ("Alarm events and
 * EventBridge").
 *
 * AWS Health delivery Regions (documented in "Creating EventBridge rules for AWS Region
 * coverage"): public events go to the affected Region *and* to a backup Region, which is
 * US West (Oregon) for every Region of the standard partition except us-west-2 itself, whose
 * backup is US East (N. Virginia). The copies carry the same eventArn and communicationId (AWS
 * advises de-duplicating on them). The lab delivers to those two Regions by default, skipping any
 * Region it does not serve; `deliverTo` overrides the list.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { InternalEvent } from '../types.js';

export interface InjectHealthInput {
  /** The affected Region (`detail.eventRegion`). */
  eventRegion: string;
  /** Regions whose default bus receives the event; default: eventRegion + its Health backup Region. */
  deliverTo?: string[];
  statusCode?: 'open' | 'closed' | 'upcoming';
  eventTypeCode?: string;
  /** Default 'SECRETSMANAGER'. */
  service?: string;
  /** Free text for eventDescription[0].latestDescription. */
  description?: string;
  /** 'PUBLIC' (default) or 'ACCOUNT_SPECIFIC'. */
  eventScopeCode?: 'PUBLIC' | 'ACCOUNT_SPECIFIC';
  /** ARNs of affected resources (account-specific events); also the envelope's `resources`. */
  affectedEntities?: string[];
  /** Stable id for a series of updates to one Health event (same eventArn); random by default. */
  eventId?: string;
}

export interface InjectAlarmInput {
  region: string;
  alarmName: string;
  state: 'ALARM' | 'OK' | 'INSUFFICIENT_DATA';
  previousState?: string;
  reason?: string;
  description?: string;
}

/** The backup Region AWS Health sends public events to, besides the affected one. */
export function healthBackupRegion(region: string): string {
  return region === 'us-west-2' ? 'us-east-1' : 'us-west-2';
}

/** RFC 1123, as AWS Health writes startTime/lastUpdatedTime ("Wed, 15 Feb 2023 22:07:07 GMT"). */
function rfc1123(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toUTCString();
}

/** CloudWatch alarm timestamps: "2019-10-02T17:04:40.985+0000". */
function alarmTimestamp(ms: number): string {
  return new Date(ms).toISOString().replace('Z', '+0000');
}

/** One InternalEvent per delivery Region (same detail in each, as AWS Health sends copies). */
export function buildHealthEvents(input: InjectHealthInput, opts: { accountId: string; now: number; servedRegions: readonly string[] }): InternalEvent[] {
  const service = (input.service ?? 'SECRETSMANAGER').toUpperCase();
  const eventTypeCode = input.eventTypeCode ?? `AWS_${service}_OPERATIONAL_ISSUE`;
  const statusCode = input.statusCode ?? 'open';
  const suffix = input.eventId ?? randomUUID().replace(/-/g, '').slice(0, 20).toUpperCase();
  const eventArn = `arn:aws:health:${input.eventRegion}::event/${service}/${eventTypeCode}/${eventTypeCode}_${suffix}`;
  const scope = input.eventScopeCode ?? 'PUBLIC';
  const entities = input.affectedEntities ?? [];
  const description =
    input.description ??
    (statusCode === 'closed'
      ? `[RESOLVED] Increased API error rates for ${service} in the ${input.eventRegion} Region. The issue has been resolved and the service is operating normally.`
      : `[Investigating] We are investigating increased API error rates and latencies for ${service} in the ${input.eventRegion} Region.`);
  const communicationId = `${createHash('sha1').update(`${eventArn}|${statusCode}|${description}`).digest('hex')}-1`;
  const now = opts.now;
  const detail: Record<string, unknown> = {
    eventArn,
    service,
    eventTypeCode,
    eventTypeCategory: 'issue',
    eventScopeCode: scope,
    communicationId,
    startTime: rfc1123(now),
    ...(statusCode === 'closed' ? { endTime: rfc1123(now) } : {}),
    lastUpdatedTime: rfc1123(now),
    statusCode,
    eventRegion: input.eventRegion,
    eventDescription: [{ language: 'en_US', latestDescription: description }],
    ...(scope === 'ACCOUNT_SPECIFIC' ? { affectedAccount: opts.accountId } : {}),
    affectedEntities: entities.map((entityValue) => ({ entityValue })),
    page: '1',
    totalPages: '1',
  };
  const regions = input.deliverTo ?? [input.eventRegion, healthBackupRegion(input.eventRegion)].filter((r) => opts.servedRegions.includes(r));
  return [...new Set(regions)].map((region) => ({
    source: 'aws.health',
    detailType: 'AWS Health Event',
    detail,
    resources: [...entities],
    region,
  }));
}

export function buildAlarmEvent(input: InjectAlarmInput, opts: { accountId: string; now: number }): InternalEvent {
  const previous = input.previousState ?? (input.state === 'ALARM' ? 'OK' : 'ALARM');
  const alarmArn = `arn:aws:cloudwatch:${input.region}:${opts.accountId}:alarm:${input.alarmName}`;
  const reason =
    input.reason ??
    (input.state === 'ALARM'
      ? 'Threshold Crossed: 1 out of the last 1 datapoints [25.0 (01/01/24 00:00:00)] was greater than or equal to the threshold (5.0) (minimum 1 datapoint for OK -> ALARM transition).'
      : 'Threshold Crossed: 1 out of the last 1 datapoints [0.0 (01/01/24 00:05:00)] was not greater than or equal to the threshold (5.0) (minimum 1 datapoint for ALARM -> OK transition).');
  const stateTime = alarmTimestamp(opts.now);
  return {
    source: 'aws.cloudwatch',
    detailType: 'CloudWatch Alarm State Change',
    region: input.region,
    resources: [alarmArn],
    detail: {
      alarmName: input.alarmName,
      state: {
        value: input.state,
        reason,
        reasonData: JSON.stringify({ version: '1.0', queryDate: stateTime, statistic: 'Sum', period: 60, threshold: 5.0 }),
        timestamp: stateTime,
      },
      previousState: {
        value: previous,
        reason: `Previous state of ${input.alarmName}`,
        timestamp: alarmTimestamp(opts.now - 60_000),
      },
      configuration: {
        description: input.description ?? `Secrets Manager API errors in ${input.region}`,
        metrics: [
          {
            id: 'm1',
            metricStat: {
              metric: {
                namespace: 'AWS/Usage',
                name: 'CallCount',
                dimensions: { Service: 'Secrets Manager', Type: 'API', Resource: 'GetSecretValue', Class: 'None' },
              },
              period: 60,
              stat: 'Sum',
            },
            returnData: true,
          },
        ],
      },
    },
  };
}

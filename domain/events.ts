/**
 * Events secrets-dr publishes to EventBridge (`source: "secrets-dr"`). Each `detail` is a zod
 * schema: plan, Regions, counts, durations and workflow id — never a value (invariant 1).
 */
import { z } from 'zod';

export const EVENT_SOURCE = 'secrets-dr';

const base = {
  plan: z.string(),
  workflowId: z.string(),
};

export const EventDetails = {
  'Replication Completed': z.object({
    ...base,
    primaryRegion: z.string(),
    drRegions: z.array(z.string()),
    counts: z.record(z.string(), z.number().int()),
    durationMs: z.number(),
  }),
  'Conflict Detected': z.object({
    ...base,
    secret: z.string(),
    region: z.string(),
    policy: z.string(),
    /** Whether the two sides hold the same AWSCURRENT value (by HMAC); never the value. */
    identical: z.boolean().optional(),
  }),
  'Health Changed': z.object({
    ...base,
    region: z.string(),
    from: z.string(),
    to: z.string(),
    reasons: z.array(z.string()),
    /** The reasons' codes (domain/health.ts HealthReasonCode), e.g. "access-denied": for rules to match on. */
    reasonCodes: z.array(z.string()).optional(),
    /** Account DR: the recovery account whose health changed (`region`: the primary Region, where its replicas live); states healthy | degraded | unreachable. */
    account: z.string().optional(),
    /** Account DR: how the primary and the recovery account answered (answers | denied | unreachable | throttled). */
    primaryReach: z.string().optional(),
    recoveryReach: z.string().optional(),
    /** Account DR: plan secrets per cross-account replica status. */
    replicas: z.record(z.string(), z.number().int()).optional(),
  }),
  'Failover Started': z.object({ ...base, from: z.string(), to: z.string(), mode: z.string(), secrets: z.number().int(), reason: z.string().optional() }),
  'Failover Completed': z.object({
    ...base,
    from: z.string(),
    to: z.string(),
    mode: z.string(),
    outcome: z.string(),
    counts: z.record(z.string(), z.number().int()),
    durationMs: z.number(),
    rtoMs: z.number().optional(),
  }),
  'Failback Completed': z.object({
    ...base,
    from: z.string(),
    to: z.string(),
    outcome: z.string(),
    counts: z.record(z.string(), z.number().int()),
    durationMs: z.number(),
  }),
  'Drill Completed': z.object({
    ...base,
    outcome: z.string(),
    rtoMs: z.number().optional(),
    rpoMs: z.number().optional(),
    rtoTargetMs: z.number().optional(),
    /** An account drill: the recovery account drilled. */
    recoveryAccountId: z.string().optional(),
  }),
  'Approval Requested': z.object({ ...base, step: z.string(), timeoutMs: z.number(), subject: z.string().optional() }),
} as const;

export type EventDetailType = keyof typeof EventDetails;
type EventDetail<T extends EventDetailType> = z.infer<(typeof EventDetails)[T]>;

export interface OutgoingEvent<T extends EventDetailType = EventDetailType> {
  detailType: T;
  detail: EventDetail<T>;
}

/**
 * JSON Schema of every event secrets-dr publishes (`secrets-dr events schema`): the EventBridge
 * envelope with `source`, `detail-type` and the `detail` of that type.
 */
export function eventJsonSchemas(): Record<EventDetailType, unknown> {
  const out = {} as Record<EventDetailType, unknown>;
  for (const [detailType, schema] of Object.entries(EventDetails) as Array<[EventDetailType, z.ZodType]>) {
    out[detailType] = {
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      title: `${EVENT_SOURCE} ${detailType}`,
      type: 'object',
      required: ['source', 'detail-type', 'detail'],
      properties: {
        source: { const: EVENT_SOURCE },
        'detail-type': { const: detailType },
        detail: z.toJSONSchema(schema, { target: 'draft-2020-12' }),
      },
    };
  }
  return out;
}

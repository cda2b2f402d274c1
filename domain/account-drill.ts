/**
 * Account drills: the drill (domain/drill.ts) for a recovery account. Canary secrets
 * `secrets-dr-drill/<plan>/account/<accountId>/<n>` in the primary account, each with its
 * cross-account replica (same name) in the recovery account, in the primary Region: associate →
 * InSync → a canary write and its replication lag (RPO) → promote (DisassociateCrossAccountReplica,
 * then StopReplicationToReplica on the detached replica) with the RTO an application in the
 * recovery account sees (GetSecretValue of a version written there after promotion) → verify →
 * clean up both accounts. Payloads are names, times and counts only: never a canary value.
 */
import { z } from 'zod';
import { DrillInput, drillCanaryPrefix } from './drill.js';

/** Every account canary of a plan and account lives under this prefix (inside the plan's drill prefix, which the IAM policies already cover). */
export function accountDrillCanaryPrefix(planName: string, accountId?: string): string {
  return `${drillCanaryPrefix(planName)}account/${accountId === undefined ? '' : `${accountId}/`}`;
}

export function accountDrillCanaryName(planName: string, accountId: string, n: number): string {
  return `${accountDrillCanaryPrefix(planName, accountId)}${n}`;
}

/** The lane of the recovery account in reports (steps, figures): `<region>@<accountId>`, as the write governor names that bucket. */
export function accountLane(region: string, accountId: string): string {
  return `${region}@${accountId}`;
}

export const AccountDrillInput = DrillInput.extend({ accountId: z.string().regex(/^\d{12}$/, 'a 12-digit AWS account id') });
export type AccountDrillInput = z.input<typeof AccountDrillInput>;

/** Both accounts' view of one step (what a step found or left, by account). */
export const AccountSweepResult = z.object({
  deleted: z.array(z.string()),
  detached: z.number().int(),
  /** `primary:<name>` or `<accountId>:<name>` still present after the sweep. */
  remaining: z.array(z.string()),
});
export type AccountSweepResult = z.infer<typeof AccountSweepResult>;

export const AccountCanaryLag = z.object({
  /** Canary write acknowledged in the primary account → the last canary's replica answering with the written value. */
  lagMs: z.number(),
  timedOut: z.boolean(),
  writtenAt: z.string(),
  alreadyWritten: z.number().int(),
});
export type AccountCanaryLag = z.infer<typeof AccountCanaryLag>;

export const AccountPromoteResult = z.object({
  startedAt: z.string(),
  /** First DisassociateCrossAccountReplica → the last StopReplicationToReplica answered. */
  promoteMs: z.number(),
  /**
   * The RTO an application in the recovery account sees: first DisassociateCrossAccountReplica → GetSecretValue
   * there answers, for the slowest canary, with the version a writer in that account wrote after the promotion.
   */
  rtoMs: z.number(),
  readableAt: z.string(),
  alreadyStandalone: z.number().int(),
  /** Replicas the primary account still listed as linked after DisassociateCrossAccountReplica (Detached expected). */
  stillLinked: z.array(z.string()),
});
export type AccountPromoteResult = z.infer<typeof AccountPromoteResult>;

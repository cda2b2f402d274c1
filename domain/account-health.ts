/**
 * The monitor's view of account DR: per recovery account, how both accounts answer and what the
 * cross-account replicas of the plan's secrets report (accountHealthOf in account-dr.ts decides the
 * state). JSON-plain, carried through continue-as-new; names, statuses and counts, never a value.
 * Only an account that does not answer is `unreachable`; a primary that refuses our keys (revoked,
 * locked, compromised) is `degraded` with that reason and never starts a failover by itself
 * (invariant 9): account failover is the operator's decision.
 */
import { z } from 'zod';
import { AccountProbe, accountHealthOf, type AccountPairState, type AccountStatusReport } from './account-dr.js';

const AccountHealthStateName = z.enum(['healthy', 'degraded', 'unreachable']);

export const AccountHealth = z.object({
  accountId: z.string(),
  state: AccountHealthStateName,
  /** How the primary account and the recovery account answered the last check. */
  primaryReach: AccountProbe.shape.reach,
  recoveryReach: AccountProbe.shape.reach,
  reasons: z.array(z.string()),
  inSync: z.number().int(),
  total: z.number().int(),
  /** Plan secrets per cross-account replica status (InSync, InProgress, Pending, Failed, Detached) or, without a link, what the recovery account holds (absent, standalone, foreign, deleted). */
  replicas: z.record(z.string(), z.number().int()),
  previous: AccountHealthStateName.optional(),
  since: z.string(),
  checkedAt: z.string(),
});
export type AccountHealth = z.infer<typeof AccountHealth>;

/** A secret's cross-account status for the counts: the link's status as either side lists it, else what the recovery account holds. */
const replicaStatusOf = (s: AccountPairState): string => s.primaryView ?? s.replicaView ?? s.replica;

export function crossAccountReplicaCounts(secrets: readonly AccountPairState[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of secrets) out[replicaStatusOf(s)] = (out[replicaStatusOf(s)] ?? 0) + 1;
  return out;
}

/**
 * The next health of one recovery account from a status report (or the error that kept it from being read), and
 * whether it changed (a `Health Changed` event then). `prev`: the last health (undefined on the first check).
 */
export function nextAccountHealth(
  prev: AccountHealth | undefined,
  seen: { accountId: string; report?: Pick<AccountStatusReport, 'primaryAccount' | 'recoveryAccount' | 'secrets'>; error?: string },
  at: string,
): { health: AccountHealth; changed: boolean } {
  const judged = seen.report
    ? accountHealthOf({ accountId: seen.accountId, ...seen.report })
    : // The check itself failed (activities exhausted their attempts): not an observation of an outage.
      {
        accountId: seen.accountId,
        state: 'degraded' as const,
        reasons: [`account status not read this cycle: ${seen.error ?? 'unknown error'}`],
        inSync: prev?.inSync ?? 0,
        total: prev?.total ?? 0,
      };
  const changed = prev === undefined ? judged.state !== 'healthy' : prev.state !== judged.state;
  const health: AccountHealth = {
    accountId: seen.accountId,
    state: judged.state,
    primaryReach: seen.report?.primaryAccount.reach ?? prev?.primaryReach ?? 'unreachable',
    recoveryReach: seen.report?.recoveryAccount.reach ?? prev?.recoveryReach ?? 'unreachable',
    reasons: judged.reasons,
    inSync: judged.inSync,
    total: judged.total,
    replicas: seen.report ? crossAccountReplicaCounts(seen.report.secrets) : (prev?.replicas ?? {}),
    ...(prev && prev.state !== judged.state ? { previous: prev.state } : prev?.previous ? { previous: prev.previous } : {}),
    since: prev && prev.state === judged.state ? prev.since : at,
    checkedAt: at,
  };
  return { health, changed };
}

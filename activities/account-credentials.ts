/**
 * Credentials of a recovery account: STS AssumeRole of the plan's `roleArn` (with its ExternalId),
 * cached and refreshed before they expire. The operator's own credentials (the standard chain) are
 * used only for the primary account: a recovery account is never reached with them, so a leaked
 * primary-account key cannot touch the recovery copies.
 *
 * The STS call itself is injected (worker/account-clients.ts builds it over the STS client), so the
 * refresh logic is tested with a fake clock and a fake STS.
 */
import type { AccountRef } from './clients.js';

export interface TemporaryCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  expiration: Date;
}

export interface AssumeRoleRequest {
  roleArn: string;
  externalId?: string;
  sessionName: string;
  durationSeconds: number;
}

export type AssumeRole = (request: AssumeRoleRequest) => Promise<TemporaryCredentials>;

/** Session length asked of STS: one hour (the default maximum of a role). */
const SESSION_SECONDS = 3_600;
/** Refresh this long before expiry, so no call is signed with credentials about to lapse (the SDK's own margin is 5 min). */
export const REFRESH_BEFORE_MS = 10 * 60_000;

/** A role session name STS accepts (2-64 of [\w+=,.@-]) that says who acts: `secrets-dr-<account>`. */
function sessionNameFor(account: AccountRef): string {
  return `secrets-dr-${account.accountId}`.slice(0, 64);
}

/**
 * A credential provider (the SDK's `credentials` option takes it) for `account`: the first call
 * assumes the role, later calls return the cached credentials until REFRESH_BEFORE_MS before they
 * expire; concurrent calls share one STS request. A failed refresh while the old credentials are
 * still valid keeps them (and tries again on the next call); once they have expired it throws,
 * naming the role and what to check.
 */
export function assumedRoleCredentials(
  account: AccountRef,
  assumeRole: AssumeRole,
  options: { now?: () => number; refreshBeforeMs?: number; durationSeconds?: number } = {},
): () => Promise<TemporaryCredentials> {
  const now = options.now ?? Date.now;
  const margin = options.refreshBeforeMs ?? REFRESH_BEFORE_MS;
  let cached: TemporaryCredentials | undefined;
  let inFlight: Promise<TemporaryCredentials> | undefined;

  const refresh = () =>
    (inFlight ??= assumeRole({
      roleArn: account.roleArn,
      ...(account.externalId !== undefined ? { externalId: account.externalId } : {}),
      sessionName: sessionNameFor(account),
      durationSeconds: options.durationSeconds ?? SESSION_SECONDS,
    })
      .then((c) => (cached = c))
      .finally(() => (inFlight = undefined)));

  return async () => {
    if (cached && cached.expiration.getTime() - margin > now()) return cached;
    try {
      return await refresh();
    } catch (err) {
      if (cached && cached.expiration.getTime() > now()) return cached;
      const e = err as { name?: string; message?: string };
      throw Object.assign(
        new Error(
          `AssumeRole ${account.roleArn} (recovery account ${account.accountId}) failed: ${e.name ?? 'Error'}: ${e.message ?? String(err)}; check the role's trust policy (principal, ExternalId) and that the worker may sts:AssumeRole it (secrets-dr iam-policy --recovery-account ${account.accountId})`,
          { cause: err },
        ),
        { name: e.name ?? 'CredentialsProviderError' },
      );
    }
  };
}

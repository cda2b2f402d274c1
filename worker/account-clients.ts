/**
 * Clients per (account, Region) for account DR. The primary account uses the worker's own
 * credentials (the standard chain, or the fixed key tests give); each recovery account is reached
 * only through STS AssumeRole of the plan's role, with its ExternalId
 * (activities/account-credentials.ts: cached, refreshed before expiry). Clients are cached per
 * (account, role, ExternalId, Region) for the worker's life.
 *
 * STS goes through the small signed Query client (activities/sts-client.ts; AWS_ENDPOINT_URL_STS is
 * honoured, the lab exports it): @aws-sdk/client-sts is not a dependency. The cross-account
 * Secrets Manager operations go through the signed JSON client (activities/cross-account-client.ts).
 */
import { SecretsManager } from '@aws-sdk/client-secrets-manager';
import type { AwsCredentialIdentity } from '@smithy/types';
import { accountBucket, type AccountClientsOf, type AccountRef, type AccountRegionClients } from '../activities/clients.js';
import { assumedRoleCredentials, type AssumeRole } from '../activities/account-credentials.js';
import { createCrossAccountClient } from './cross-account-client.js';
import { assumeRole as stsAssumeRole } from './sts-client.js';
import { noAnswerRetryStrategy } from './sdk-retry.js';

type CredentialSource = AwsCredentialIdentity | (() => Promise<AwsCredentialIdentity>);

interface AccountClientsOptions {
  requestTimeoutMs: number;
  /** Fixed credentials of the primary account (tests: the lab key); default the standard chain. */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** The STS call (tests may inject a fake); default STS AssumeRole in the Region, signed with the primary account's credentials. */
  assumeRole?: (region: string, primary: CredentialSource) => AssumeRole;
}

/** AssumeRole through STS in `region`, signed with the primary account's credentials. */
function assumeRoleIn(region: string, primary: CredentialSource, requestTimeoutMs: number): AssumeRole {
  return async (r) =>
    stsAssumeRole(
      { region, credentials: primary, requestTimeoutMs },
      {
        RoleArn: r.roleArn,
        RoleSessionName: r.sessionName,
        DurationSeconds: r.durationSeconds,
        ...(r.externalId !== undefined ? { ExternalId: r.externalId } : {}),
      },
    );
}

export function createAccountClients(options: AccountClientsOptions): AccountClientsOf {
  const cache = new Map<string, AccountRegionClients>();
  const requestHandler = {
    requestTimeout: options.requestTimeoutMs,
    throwOnRequestTimeout: true,
    connectionTimeout: Math.min(options.requestTimeoutMs, 5_000),
  };
  const secretsManager = (region: string, credentials: CredentialSource | undefined) =>
    new SecretsManager({ region, requestHandler, retryStrategy: noAnswerRetryStrategy(), ...(credentials ? { credentials } : {}) });

  const build = (region: string, account?: AccountRef): AccountRegionClients => {
    const primary = account ? get(region) : undefined;
    // The primary account's credentials: the fixed ones, else the standard chain as the SDK client resolved it.
    const primaryCredentials = (c: AccountRegionClients): CredentialSource =>
      options.credentials ?? ((c.secretsManager as SecretsManager).config.credentials as () => Promise<AwsCredentialIdentity>);
    let credentials: CredentialSource | undefined = options.credentials;
    if (account) {
      const via = primaryCredentials(primary!);
      const call = options.assumeRole ? options.assumeRole(region, via) : assumeRoleIn(region, via, options.requestTimeoutMs);
      credentials = assumedRoleCredentials(account, call);
    }
    const sm = secretsManager(region, credentials);
    return {
      region,
      ...(account ? { accountId: account.accountId } : {}),
      bucket: accountBucket(region, account?.accountId),
      secretsManager: sm,
      crossAccount: createCrossAccountClient({
        region,
        credentials: credentials ?? (sm.config.credentials as () => Promise<AwsCredentialIdentity>),
        requestTimeoutMs: options.requestTimeoutMs,
      }),
    };
  };
  const get = (region: string, account?: AccountRef): AccountRegionClients => {
    const key = account ? `${region}|${account.accountId}|${account.roleArn}|${account.externalId ?? ''}` : region;
    return cache.get(key) ?? cache.set(key, build(region, account)).get(key)!;
  };
  return get;
}

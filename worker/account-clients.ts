/**
 * Clients per (account, Region) for account DR. The primary account uses the worker's own
 * credentials (the standard chain, or the fixed key tests give); each recovery account is reached
 * only through STS AssumeRole of the plan's role (activities/account-credentials.ts), refreshed
 * before expiry. Clients are cached per (account, role, ExternalId, Region) for the worker's life.
 *
 * STS: `@aws-sdk/client-sts` is not a dependency yet; until it is added (3.1163.0, the version of
 * the other clients), the STS client of `@aws-sdk/nested-clients` (the SDK's own, already in the tree
 * for the credential chain) is used: the same STSClient/AssumeRoleCommand API. It honours
 * AWS_ENDPOINT_URL_STS like every SDK client (the lab exports it).
 */
import { SecretsManager } from '@aws-sdk/client-secrets-manager';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/nested-clients/sts';
import { accountBucket, type AccountClientsOf, type AccountRef, type AccountRegionClients, type CrossAccountApi } from '../activities/clients.js';
import { assumedRoleCredentials, type AssumeRole } from '../activities/account-credentials.js';
import { noAnswerRetryStrategy } from './sdk-retry.js';

type Credentials = { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
type CredentialSource = Credentials | (() => Promise<Credentials & { expiration?: Date }>);

export interface AccountClientsOptions {
  requestTimeoutMs: number;
  /** Fixed credentials of the primary account (tests: the lab key); default the standard chain. */
  credentials?: Credentials;
  /** The STS call (tests inject a fake); default STS in `region` with the primary account's credentials. */
  assumeRole?: (region: string) => AssumeRole;
  /** The cross-account operations' signed-request client over the given credentials. */
  crossAccount: (region: string, credentials: CredentialSource | undefined) => CrossAccountApi;
}

/** AssumeRole through STS in `region`, signed with the worker's (primary account's) credentials. */
export function stsAssumeRole(region: string, credentials?: Credentials): AssumeRole {
  const sts = new STSClient({ region, retryStrategy: noAnswerRetryStrategy(), ...(credentials ? { credentials } : {}) });
  return async (r) => {
    const out = await sts.send(
      new AssumeRoleCommand({
        RoleArn: r.roleArn,
        RoleSessionName: r.sessionName,
        DurationSeconds: r.durationSeconds,
        ...(r.externalId !== undefined ? { ExternalId: r.externalId } : {}),
      }),
    );
    const c = out.Credentials;
    if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken || !c.Expiration)
      throw Object.assign(new Error(`AssumeRole ${r.roleArn}: STS answered without credentials`), { name: 'InvalidStsResponse' });
    return { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken, expiration: new Date(c.Expiration) };
  };
}

export function createAccountClients(options: AccountClientsOptions): AccountClientsOf {
  const cache = new Map<string, AccountRegionClients>();
  const requestHandler = {
    requestTimeout: options.requestTimeoutMs,
    throwOnRequestTimeout: true,
    connectionTimeout: Math.min(options.requestTimeoutMs, 5_000),
  };
  return (region: string, account?: AccountRef) => {
    const key = account ? `${region}|${account.accountId}|${account.roleArn}|${account.externalId ?? ''}` : region;
    const hit = cache.get(key);
    if (hit) return hit;
    const credentials: CredentialSource | undefined = account
      ? assumedRoleCredentials(account, (options.assumeRole ?? ((r) => stsAssumeRole(r, options.credentials)))(region))
      : options.credentials;
    const clients: AccountRegionClients = {
      region,
      ...(account ? { accountId: account.accountId } : {}),
      bucket: accountBucket(region, account?.accountId),
      secretsManager: new SecretsManager({ region, requestHandler, retryStrategy: noAnswerRetryStrategy(), ...(credentials ? { credentials } : {}) }),
      crossAccount: options.crossAccount(region, credentials),
    };
    cache.set(key, clients);
    return clients;
  };
}

/**
 * Clients for account DR: the primary account's with the operator's own credentials (the standard
 * chain), a recovery account's with keys from STS AssumeRole into its role (refreshed before they
 * expire, worker/sts-client.ts). Each Region gets the SDK clients of worker/aws-clients.ts plus the
 * signed cross-account client (worker/cross-account-client.ts). No key is logged or returned.
 */
import { SecretsManager } from '@aws-sdk/client-secrets-manager';
import type { AwsCredentialIdentity } from '@smithy/types';
import type { CrossAccountSecretsApi } from '../activities/cross-account-api.js';
import type { RegionClients } from '../activities/clients.js';
import { createRegionClients } from './aws-clients.js';
import { createCrossAccountClient, type CredentialsOption } from './cross-account-client.js';
import { assumeRoleProvider } from './sts-client.js';

export interface AccountRegionClients extends RegionClients {
  crossAccount: CrossAccountSecretsApi;
}

export interface RecoveryAccountAccess {
  accountId: string;
  roleArn: string;
  externalId?: string;
  /** RoleSessionName (CloudTrail shows it); default secrets-dr-<accountId>. */
  sessionName?: string;
}

export interface AccountClientOptions {
  requestTimeoutMs: number;
  maxSockets?: number;
  /** The primary account's credentials; default: the standard chain, as the SDK resolves it. */
  credentials?: CredentialsOption;
  /** Assume the role again when less than this is left (ms); default 5 minutes. */
  refreshBeforeMs?: number;
  env?: NodeJS.ProcessEnv;
}

/** The standard credential chain as a provider (the SDK's own resolution: env, profile, SSO, IMDS, ...). */
function defaultChain(region: string): () => Promise<AwsCredentialIdentity> {
  const client = new SecretsManager({ region });
  return () => client.config.credentials();
}

/** The primary account's clients in a Region (the operator's own credentials). */
export function createPrimaryAccountClients(region: string, options: AccountClientOptions): AccountRegionClients {
  const credentials = options.credentials ?? defaultChain(region);
  return {
    ...createRegionClients(region, {
      requestTimeoutMs: options.requestTimeoutMs,
      ...(options.maxSockets ? { maxSockets: options.maxSockets } : {}),
      credentials,
    }),
    crossAccount: createCrossAccountClient({ region, credentials, requestTimeoutMs: options.requestTimeoutMs, ...(options.env ? { env: options.env } : {}) }),
  };
}

/** A recovery account's clients in a Region: keys from AssumeRole into its role, shared by every client of the account. */
export function createRecoveryAccountClients(region: string, access: RecoveryAccountAccess, options: AccountClientOptions): AccountRegionClients {
  const base = options.credentials ?? defaultChain(region);
  const assumed = assumeRoleProvider(
    { region, credentials: base, requestTimeoutMs: options.requestTimeoutMs, ...(options.env ? { env: options.env } : {}) },
    {
      RoleArn: access.roleArn,
      RoleSessionName: access.sessionName ?? `secrets-dr-${access.accountId}`,
      ...(access.externalId !== undefined ? { ExternalId: access.externalId } : {}),
    },
    options.refreshBeforeMs,
  );
  return {
    ...createRegionClients(region, {
      requestTimeoutMs: options.requestTimeoutMs,
      ...(options.maxSockets ? { maxSockets: options.maxSockets } : {}),
      credentials: assumed,
    }),
    crossAccount: createCrossAccountClient({
      region,
      credentials: assumed,
      requestTimeoutMs: options.requestTimeoutMs,
      ...(options.env ? { env: options.env } : {}),
    }),
  };
}

/**
 * Narrow views of the AWS clients: only the operations secrets-dr uses (aws-cdk style), so
 * activities are built over the real SDK clients (worker/) and a reader sees what we touch.
 */
import type { SecretsManager } from '@aws-sdk/client-secrets-manager';
import type { EventBridge } from '@aws-sdk/client-eventbridge';
import type { SSM } from '@aws-sdk/client-ssm';
import type { CrossAccountSecretsApi } from './cross-account-api.js';

/** The Secrets Manager operations activities may call; domain/iam.ts's table must list each (a unit test checks). */
export const SECRETS_MANAGER_OPERATIONS = [
  'listSecrets',
  'describeSecret',
  'getSecretValue',
  'createSecret',
  'putSecretValue',
  'updateSecret',
  'updateSecretVersionStage',
  'deleteSecret',
  'tagResource',
  'untagResource',
  'getResourcePolicy',
  'putResourcePolicy',
  'deleteResourcePolicy',
  'replicateSecretToRegions',
  'removeRegionsFromReplication',
  'stopReplicationToReplica',
  'rotateSecret',
  'cancelRotateSecret',
] as const;
export type SecretsManagerApi = Pick<SecretsManager, (typeof SECRETS_MANAGER_OPERATIONS)[number]>;

/** The EventBridge operations activities may call (events install/uninstall: the API destination and its API-key connection). */
export const EVENTBRIDGE_OPERATIONS = [
  'putEvents',
  'putRule',
  'putTargets',
  'describeRule',
  'deleteRule',
  'removeTargets',
  'listTargetsByRule',
  'createConnection',
  'describeConnection',
  'updateConnection',
  'deleteConnection',
  'createApiDestination',
  'describeApiDestination',
  'updateApiDestination',
  'deleteApiDestination',
] as const;
type EventBridgeApi = Pick<EventBridge, (typeof EVENTBRIDGE_OPERATIONS)[number]>;

/**
 * One Region's Secrets Manager client, narrowed to the operations `K` an activity module calls: its
 * factory says what it touches, and tests build fakes of just those (MockActivityEnvironment).
 */
export interface RegionSecretsManager<K extends keyof SecretsManagerApi> {
  region: string;
  secretsManager: Pick<SecretsManagerApi, K>;
  /** Write governor key (default `region`): another account's clients in the Region have their own 50 TPS bucket (accountBucket). */
  bucket?: string;
}

/** The Parameter Store operations activities may call: reading secrets as applications do (`/aws/reference/secretsmanager/<name>`). */
export const SSM_OPERATIONS = ['getParameter'] as const;
type SsmApi = Pick<SSM, (typeof SSM_OPERATIONS)[number]>;

/** One Region's clients. */
export interface RegionClients {
  region: string;
  secretsManager: SecretsManagerApi;
  eventBridge: EventBridgeApi;
  /** Parameter Store (read-path checks); absent in clients built for tests that never read through it. */
  ssm?: SsmApi;
}

/*
 * Account DR (cross-account replication): the JS SDK (3.1164) lacks the cross-account operations,
 * so they go through the signed-request client (activities/cross-account-client.ts), whose
 * method names and shapes are the SDK's to be.
 */
export type { CrossAccountSecretsApi as CrossAccountApi, DescribeSecretCrossAccountOutput as CrossAccountDescribe } from './cross-account-api.js';
/** Which account a client acts in: the primary (the worker's own credentials) or a recovery account (STS AssumeRole). */
export interface AccountRef {
  accountId: string;
  roleArn: string;
  externalId?: string;
}

/** One (account, Region)'s clients; `bucket` keys its write governor (each account has its own 50 TPS per Region). */
export interface AccountRegionClients {
  region: string;
  /** Undefined for the primary account (the worker's own credentials). */
  accountId?: string;
  bucket: string;
  secretsManager: SecretsManagerApi;
  crossAccount: CrossAccountSecretsApi;
}

/** The factory activities get: clients of `account` (undefined: the primary account) in `region`, cached by the worker. */
export type AccountClientsOf = (region: string, account?: AccountRef) => AccountRegionClients;

/** The write governor key of an account in a Region: the primary account shares the Region's key with every other writer. */
export function accountBucket(region: string, accountId?: string): string {
  return accountId === undefined ? region : `${region}@${accountId}`;
}

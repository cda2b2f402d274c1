/**
 * Narrow views of the AWS clients: only the operations secrets-dr uses (aws-cdk style), so
 * activities are built over the real SDK clients (worker/) and a reader sees what we touch.
 */
import type { SecretsManager } from '@aws-sdk/client-secrets-manager';
import type { EventBridge } from '@aws-sdk/client-eventbridge';
import type { SSM } from '@aws-sdk/client-ssm';

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
export type SsmApi = Pick<SSM, (typeof SSM_OPERATIONS)[number]>;

/** One Region's clients. */
export interface RegionClients {
  region: string;
  secretsManager: SecretsManagerApi;
  eventBridge: EventBridgeApi;
  /** Parameter Store (read-path checks); absent in clients built for tests that never read through it. */
  ssm?: SsmApi;
}

/*
 * Account DR (cross-account replication). The JS SDK (3.1164) has no AssociateCrossAccountReplica,
 * DisassociateCrossAccountReplica, CreateSecret(CrossAccountPrimaryARN) nor DescribeSecret's
 * CrossAccountPrimary/CrossAccountReplicas yet: they go through one small signed-request client
 * (AWS JSON 1.1 + SigV4) with exactly these shapes (botocore 1.44.8's model), to be swapped for the
 * SDK's commands when they ship.
 */

/** Cross-account replication status (botocore StatusType). */
export type CrossAccountStatus = 'InSync' | 'Failed' | 'InProgress' | 'Pending' | 'Detached';

export interface CrossAccountDescribe {
  ARN?: string;
  Name?: string;
  KmsKeyId?: string;
  DeletedDate?: Date | number | string;
  VersionIdsToStages?: Record<string, string[]>;
  Tags?: Array<{ Key?: string; Value?: string }>;
  /** Present on a cross-account replica (the recovery account's copy). */
  CrossAccountPrimary?: { PrimarySecretARN?: string; ReplicationStatus?: CrossAccountStatus; StatusMessage?: string };
  /** Present on a primary with a cross-account replica (at most one). */
  CrossAccountReplicas?: Array<{ ReplicaSecretARN?: string; ReplicationRoleARN?: string; ReplicationStatus?: CrossAccountStatus; StatusMessage?: string }>;
}

/** The cross-account operations, through the signed-request client (names as the SDK will spell them). */
export interface CrossAccountApi {
  describeSecret(input: { SecretId: string }): Promise<CrossAccountDescribe>;
  /** CreateSecret with CrossAccountPrimaryARN, in the replica account (no value, no description: AWS refuses them). */
  createSecret(input: {
    Name: string;
    CrossAccountPrimaryARN: string;
    KmsKeyId: string;
    ClientRequestToken?: string;
    Tags?: Array<{ Key: string; Value: string }>;
  }): Promise<{ ARN?: string; Name?: string }>;
  /** Called in the primary account; idempotent (repairs replication when called again). */
  associateCrossAccountReplica(input: {
    SecretId: string;
    CrossAccountReplicaARN: string;
    ReplicaRestriction?: 'SameOrg' | 'NoRestriction';
    ReplicationRoleARN?: string;
  }): Promise<{ ARN?: string; CrossAccountReplicaARN?: string; ReplicationStatus?: CrossAccountStatus }>;
  /** Called in the primary account; the replica becomes Detached. */
  disassociateCrossAccountReplica(input: { SecretId: string; CrossAccountReplicaARN: string }): Promise<{ ARN?: string; CrossAccountReplicaARN?: string }>;
}

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
  crossAccount: CrossAccountApi;
}

/** The factory activities get: clients of `account` (undefined: the primary account) in `region`, cached by the worker. */
export type AccountClientsOf = (region: string, account?: AccountRef) => AccountRegionClients;

/** The write governor key of an account in a Region: the primary account shares the Region's key with every other writer. */
export function accountBucket(region: string, accountId?: string): string {
  return accountId === undefined ? region : `${region}@${accountId}`;
}

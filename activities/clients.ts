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

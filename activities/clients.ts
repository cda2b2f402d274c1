/**
 * Narrow views of the AWS clients: only the operations secrets-dr uses (aws-cdk style), so
 * activities are built over the real SDK clients (worker/) and a reader sees what we touch.
 */
import type { SecretsManager } from '@aws-sdk/client-secrets-manager';
import type { EventBridge } from '@aws-sdk/client-eventbridge';

export type SecretsManagerApi = Pick<
  SecretsManager,
  | 'listSecrets'
  | 'describeSecret'
  | 'listSecretVersionIds'
  | 'getSecretValue'
  | 'createSecret'
  | 'putSecretValue'
  | 'updateSecret'
  | 'updateSecretVersionStage'
  | 'deleteSecret'
  | 'restoreSecret'
  | 'tagResource'
  | 'untagResource'
  | 'getResourcePolicy'
  | 'putResourcePolicy'
  | 'deleteResourcePolicy'
  | 'replicateSecretToRegions'
  | 'removeRegionsFromReplication'
  | 'stopReplicationToReplica'
  | 'rotateSecret'
  | 'cancelRotateSecret'
>;

export type EventBridgeApi = Pick<
  EventBridge,
  | 'putEvents'
  | 'putRule'
  | 'putTargets'
  | 'describeRule'
  | 'deleteRule'
  | 'removeTargets'
  | 'listTargetsByRule'
  // events install/uninstall: the API destination (and its API-key connection) that feeds the receiver
  | 'createConnection'
  | 'describeConnection'
  | 'updateConnection'
  | 'deleteConnection'
  | 'createApiDestination'
  | 'describeApiDestination'
  | 'updateApiDestination'
  | 'deleteApiDestination'
>;

/** One Region's clients. */
export interface RegionClients {
  region: string;
  secretsManager: SecretsManagerApi;
  eventBridge: EventBridgeApi;
}

/**
 * The cross-account Secrets Manager operations secrets-dr calls (botocore 1.44.8's model has them;
 * @aws-sdk/client-secrets-manager 3.1163 does not yet): the narrow interface activities are built
 * over, its input/output shapes as the model defines them, and the IAM action of each method.
 * The implementation is the signed client worker/cross-account-client.ts (AWS JSON 1.1 + SigV4);
 * when the SDK ships these commands, only that file changes.
 */
import type { DescribeSecretResponse } from '@aws-sdk/client-secrets-manager';

/** The model's StatusType for cross-account links. */
type CrossAccountReplicationStatus = 'InSync' | 'Failed' | 'InProgress' | 'Pending' | 'Detached';

interface CreateCrossAccountReplicaInput {
  /** The replica's name in its own account (may differ from the primary's). */
  Name: string;
  /** Full ARN of the primary secret in the other account, same Region and partition. */
  CrossAccountPrimaryARN: string;
  /** A customer managed KMS key of the replica's account (required by the model). */
  KmsKeyId: string;
  ClientRequestToken?: string;
  Tags?: Array<{ Key: string; Value: string }>;
}
interface CreateCrossAccountReplicaOutput {
  ARN?: string;
  Name?: string;
}

interface AssociateCrossAccountReplicaInput {
  SecretId: string;
  CrossAccountReplicaARN: string;
  ReplicaRestriction?: 'SameOrg' | 'NoRestriction';
  ReplicationRoleARN?: string;
}
interface AssociateCrossAccountReplicaOutput {
  ARN?: string;
  CrossAccountReplicaARN?: string;
  ReplicationStatus?: CrossAccountReplicationStatus;
}

interface DisassociateCrossAccountReplicaInput {
  SecretId: string;
  CrossAccountReplicaARN: string;
}
interface DisassociateCrossAccountReplicaOutput {
  ARN?: string;
  CrossAccountReplicaARN?: string;
}

interface CrossAccountPrimary {
  PrimarySecretARN?: string;
  ReplicationStatus?: CrossAccountReplicationStatus;
  StatusMessage?: string;
}
interface CrossAccountReplicaEntry {
  ReplicaSecretARN?: string;
  ReplicationRoleARN?: string;
  ReplicationStatus?: CrossAccountReplicationStatus;
  StatusMessage?: string;
}
/** DescribeSecret as the SDK types it, plus the model's cross-account members. Dates are Date, as the SDK gives them. */
export type DescribeSecretCrossAccountOutput = Omit<DescribeSecretResponse, '$metadata'> & {
  CrossAccountPrimary?: CrossAccountPrimary;
  CrossAccountReplicas?: CrossAccountReplicaEntry[];
};

/** The cross-account operations secrets-dr calls; domain/iam.ts's table lists each. */
export interface CrossAccountSecretsApi {
  createCrossAccountReplica(input: CreateCrossAccountReplicaInput): Promise<CreateCrossAccountReplicaOutput>;
  associateCrossAccountReplica(input: AssociateCrossAccountReplicaInput): Promise<AssociateCrossAccountReplicaOutput>;
  disassociateCrossAccountReplica(input: DisassociateCrossAccountReplicaInput): Promise<DisassociateCrossAccountReplicaOutput>;
  describeSecretCrossAccount(input: { SecretId: string }): Promise<DescribeSecretCrossAccountOutput>;
}
type CrossAccountOperation = 'createCrossAccountReplica' | 'associateCrossAccountReplica' | 'disassociateCrossAccountReplica' | 'describeSecretCrossAccount';
/** The Secrets Manager operation (and so the IAM action) behind each method. */
export const CROSS_ACCOUNT_API_OPERATION: Readonly<Record<CrossAccountOperation, string>> = {
  createCrossAccountReplica: 'CreateSecret',
  associateCrossAccountReplica: 'AssociateCrossAccountReplica',
  disassociateCrossAccountReplica: 'DisassociateCrossAccountReplica',
  describeSecretCrossAccount: 'DescribeSecret',
};

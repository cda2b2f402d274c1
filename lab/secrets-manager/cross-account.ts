/**
 * Cross-account replication (botocore 1.44.8's model: CreateSecret.CrossAccountPrimaryARN,
 * AssociateCrossAccountReplica, DisassociateCrossAccountReplica, DescribeSecret.CrossAccountPrimary /
 * CrossAccountReplicas): the asynchronous copy from a primary into its replica in another account
 * of the same Region, and the checks the association makes.
 *
 * What the model's documentation says, and the lab does:
 * - the replica is created first, in its own account, with CreateSecret(CrossAccountPrimaryARN) and a
 *   customer managed KmsKeyId, without SecretString/SecretBinary/Description/AddReplicaRegions/Type;
 * - AssociateCrossAccountReplica is called in the primary's account; same Region and partition; at
 *   most one cross-account replica per primary; idempotent (a repeat repairs replication); Secrets
 *   Manager calls AcceptCrossAccountReplication on the replica on the caller's behalf (the replica's
 *   resource policy must allow it to the caller); kms:Decrypt on the primary's key and kms:Encrypt on
 *   the replica's (key policies, lab/kms/key-policies.ts); a failed association changes neither secret;
 * - DisassociateCrossAccountReplica leaves the replica `Detached` (it stays, read-only, no updates);
 *   StopReplicationToReplica in the replica's account then makes it standalone (also while still
 *   associated: the primary's status for it becomes `Detached`);
 * - DeleteSecret fails on a primary with an associated replica, and on a replica not yet stopped.
 *
 * INFERRED, not recorded (the docs are silent; the lab follows the closest recorded behaviour, Region
 * replicas, and product code must not rely on these): the replica's status before association
 * (`Pending`); every error type and message text below; what a sync copies (versions with their
 * labels and the description; the replica keeps its own name, key, tags and resource policy); that a
 * replica's value writes answer InvalidParameterException like a Region replica's while resource
 * policy operations are allowed on it (its owner must grant AcceptCrossAccountReplication before the
 * association); that StopReplicationToReplica on a cross-account replica deletes its resource policy
 * (the docs require secretsmanager:DeleteResourcePolicy for it); that a Detached entry stays listed on
 * the primary until another replica is associated; that ReplicaRestriction SameOrg compares the lab's
 * organizations (every account in one organization unless POST /_lab/accounts says otherwise); that the two
 * new operations belong to no request quota group (AWS publishes none for them: the lab throttles them only
 * with a throttle fault on `all`); that replication runs on while either account's keys are revoked (it is
 * Secrets Manager's own work, not a call with the caller's keys).
 */
import type { ReplicationControl } from './replication.js';
import { isUnusableKmsKey } from './replication.js';
import { type CrossAccountLink, type SecretRecord } from './model.js';

const POLL_MS = 50;

export const CROSS_ACCOUNT_REPLICA_WRITE_MESSAGE =
  "Operation not permitted on a cross-account replica secret. Call must be made on the primary secret, in the primary secret's account.";

/** Parsed `arn:<partition>:secretsmanager:<region>:<account>:secret:<name>-XXXXXX`. */
export function parseSecretArn(arn: string): { partition: string; region: string; accountId: string; resource: string } | undefined {
  const m = /^arn:([a-z-]+):secretsmanager:([a-z0-9-]+):(\d{12}):secret:(.+-[A-Za-z0-9]{6})$/.exec(arn);
  return m ? { partition: m[1]!, region: m[2]!, accountId: m[3]!, resource: m[4]! } : undefined;
}

interface CrossAccountDeps {
  /** A secret of any lab account by its full ARN. */
  find(arn: string): SecretRecord | undefined;
  control: ReplicationControl;
  lagMs(region: string): number;
  now(): number;
  /** A state change in some account (state file). */
  onChange(): void;
}

/** The timers of the cross-account syncs that start in one account (the primaries' account). */
export class CrossAccountReplicator {
  private readonly timers = new Map<string, NodeJS.Timeout>();

  constructor(private readonly deps: CrossAccountDeps) {}

  /** Marks every live link of `primary` InProgress and arms its sync. */
  propagate(primary: SecretRecord): void {
    for (const link of primary.crossAccountReplicas ?? []) {
      if (link.status === 'Detached') continue;
      this.start(primary, link);
    }
  }

  start(primary: SecretRecord, link: CrossAccountLink): void {
    link.status = 'InProgress';
    delete link.statusMessage;
    const replica = this.deps.find(link.arn);
    if (replica?.crossAccountPrimary?.arn === primary.arn && replica.crossAccountPrimary.status !== 'Detached') {
      replica.crossAccountPrimary.status = 'InProgress';
      delete replica.crossAccountPrimary.statusMessage;
    }
    if (this.timers.has(primary.arn)) return;
    this.arm(primary.arn, primary.region, this.deps.lagMs(primary.region));
  }

  resume(records: Iterable<SecretRecord>): void {
    for (const rec of records) for (const link of rec.crossAccountReplicas ?? []) if (link.status === 'InProgress') this.start(rec, link);
  }

  get pending(): number {
    return this.timers.size;
  }

  dispose(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }

  private arm(primaryArn: string, region: string, delay: number): void {
    const t = setTimeout(
      () => {
        this.timers.delete(primaryArn);
        this.run(primaryArn, region);
      },
      Math.max(0, delay),
    );
    t.unref();
    this.timers.set(primaryArn, t);
  }

  private run(primaryArn: string, region: string): void {
    const primary = this.deps.find(primaryArn);
    if (!primary) return;
    const c = this.deps.control;
    if (c.regionDown?.(region) || c.paused?.(region)) {
      this.arm(primaryArn, region, POLL_MS);
      return;
    }
    for (const link of primary.crossAccountReplicas ?? []) if (link.status === 'InProgress') this.sync(primary, link);
    this.deps.onChange();
  }

  private fail(link: CrossAccountLink, replica: SecretRecord | undefined, message: string): void {
    link.status = 'Failed';
    link.statusMessage = message;
    if (replica?.crossAccountPrimary && replica.crossAccountPrimary.status !== 'Detached') {
      replica.crossAccountPrimary.status = 'Failed';
      replica.crossAccountPrimary.statusMessage = message;
    }
  }

  private sync(primary: SecretRecord, link: CrossAccountLink): void {
    const replica = this.deps.find(link.arn);
    if (!replica || replica.crossAccountPrimary?.arn !== primary.arn) {
      this.fail(link, undefined, `Replication failed: the secret ${link.arn} is no longer a cross-account replica of this secret.`);
      return;
    }
    if (replica.crossAccountPrimary.status === 'Detached') return;
    if (replica.kmsKeyId && isUnusableKmsKey(replica.kmsKeyId)) {
      this.fail(link, replica, `Replication failed: The KMS key ${replica.kmsKeyId} of the replica is disabled or not found.`);
      return;
    }
    const injected = this.deps.control.takeReplicationFault?.(replica.region, replica.name);
    if (injected) {
      this.fail(link, replica, `Replication failed: ${injected} (injected fault).`);
      return;
    }
    replica.versions = primary.versions.map((v) => {
      const old = replica.versions.find((o) => o.id === v.id);
      const copy = { ...v, stages: [...v.stages] };
      if (old?.lastAccessedDate !== undefined) copy.lastAccessedDate = old.lastAccessedDate;
      else delete copy.lastAccessedDate;
      return copy;
    });
    if (primary.description !== undefined) replica.description = primary.description;
    else delete replica.description;
    replica.lastChangedDate = primary.lastChangedDate;
    link.status = 'InSync';
    delete link.statusMessage;
    replica.crossAccountPrimary.status = 'InSync';
    delete replica.crossAccountPrimary.statusMessage;
  }
}

/**
 * Replicas are deleted later, not at once.
 *
 * On AWS, RemoveRegionsFromReplication answers at once (the primary's ReplicationStatus no longer
 * lists the Region), but the replica in that Region has been observed to disappear 40–90 s later.
 * The lab models this: the replica stays visible (DescribeSecret, ListSecrets, GetSecretValue
 * find it, still a replica with its PrimaryRegion) for a delay on the lab clock, then disappears.
 * The delay is the target Region's `replica-delete-delay` fault, else the lab's default
 * (LabOptions.replicaDeleteDelayMs, 3000 ms). 0 deletes at once.
 *
 * While it lingers (AWS does not document this window; the lab picks the answers that punish
 * code assuming "gone at once", and product code must not rely on any of them):
 * - the name is taken in that Region: CreateSecret answers ResourceExistsException;
 * - it is still a read-only replica; StopReplicationToReplica is refused (InvalidRequestException);
 * - replicating the primary into that Region again waits (InProgress) until it is gone;
 * - the primary itself may be deleted (it lists no replica any more), but then the pending
 *   removal is abandoned: the replica is **stranded** — it stays, a replica of a primary that no
 *   longer exists (AWS-FACTS.md: "wait for it before deleting the primary, or the replica may be
 *   stranded"). Code must wait for the replica to disappear before deleting the primary.
 * Nothing is removed while the replica's or the primary's Region is in an outage.
 */
import type { ReplicationControl } from './replication.js';
import { arnInRegion, type SecretRecord } from './model.js';
import type { RegionStore } from './store.js';

export const DEFAULT_REPLICA_DELETE_DELAY_MS = 3_000;

interface PendingRemoval {
  source: string;
  target: string;
  name: string;
  /** The replica's ARN and its primary's (a same-named secret created later is not touched). */
  arn: string;
  primaryArn: string;
}

export class ReplicaRemover {
  private readonly pending = new Map<string, PendingRemoval>();

  constructor(
    private readonly stores: Map<string, RegionStore>,
    private readonly defaultDelayMs: number,
    private readonly control: ReplicationControl,
    private readonly now: () => number,
    private readonly onChange: () => void,
  ) {}

  /** The replica `replica` of `primary` was removed from replication: it disappears after the delay. */
  schedule(primary: SecretRecord, replica: SecretRecord): void {
    const delay = this.control.replicaDeleteDelayMs?.(replica.region) ?? this.defaultDelayMs;
    if (delay <= 0) {
      this.stores.get(replica.region)?.remove(replica.name);
      return;
    }
    replica.replicaRemovalAt = this.now() + delay;
    this.pending.set(this.key(replica), { source: primary.region, target: replica.region, name: replica.name, arn: replica.arn, primaryArn: primary.arn });
  }

  /** True while `rec` is a replica on its way out. */
  lingering(rec: SecretRecord): boolean {
    return rec.replicaRemovalAt !== undefined;
  }

  /** Removes the replicas whose time has come (called by the service's scheduler and after clock jumps). */
  run(): void {
    if (this.pending.size === 0) return;
    const now = this.now();
    let changed = false;
    for (const [key, p] of this.pending) {
      const store = this.stores.get(p.target);
      const rec = store?.byName.get(p.name);
      if (!store || !rec || rec.arn !== p.arn || rec.replicaRemovalAt === undefined) {
        this.pending.delete(key); // replaced or removed meanwhile
        continue;
      }
      if (rec.replicaRemovalAt > now) continue;
      if (this.control.regionDown?.(p.target) || this.control.regionDown?.(p.source)) continue;
      this.pending.delete(key);
      changed = true;
      const primary = this.stores.get(p.source)?.byName.get(p.name);
      if (!primary || primary.arn !== p.primaryArn) {
        delete rec.replicaRemovalAt; // stranded: its primary was deleted first
        continue;
      }
      store.remove(p.name);
    }
    if (changed) this.onChange();
  }

  /** After a restore from the state file: pick up replicas that were on their way out. */
  resume(): void {
    for (const store of this.stores.values()) {
      for (const rec of store.all()) {
        if (rec.replicaRemovalAt === undefined || !rec.primaryRegion) continue;
        this.pending.set(this.key(rec), {
          source: rec.primaryRegion,
          target: rec.region,
          name: rec.name,
          arn: rec.arn,
          primaryArn: arnInRegion(rec.arn, rec.primaryRegion),
        });
      }
    }
  }

  get count(): number {
    return this.pending.size;
  }

  clear(): void {
    this.pending.clear();
  }

  private key(rec: SecretRecord): string {
    return `${rec.region}\u0000${rec.name}`;
  }
}

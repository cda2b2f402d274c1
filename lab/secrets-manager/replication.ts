/**
 * Asynchronous replication from primaries to replica Regions.
 *
 * Every change to a primary marks its replica entries InProgress and arms one timer per
 * (primary, target Region); when it fires (after the Region's lag) the replica is overwritten
 * with a copy of the primary's *current* state, so later writes coalesce into one sync and the
 * replica always converges on the primary. The timer re-polls while the target is paused or
 * either Region is in outage: nothing propagates out of (or into) a Region that is down.
 */
import { isKnownRegion } from '../../domain/regions.js';
import { arnInRegion, DEFAULT_KMS_KEY, type ReplicaEntry, type SecretRecord } from './model.js';
import type { RegionStore } from './store.js';

/** What the replicator asks of the fault layer. All optional: without it, replication is fault-free. */
export interface ReplicationControl {
  /** Replication lag override for a target Region (fault), in ms. */
  lagMs?(targetRegion: string): number | undefined;
  /** Propagation into this Region is paused. */
  paused?(targetRegion: string): boolean;
  /** The Region is in an outage fault. */
  regionDown?(region: string): boolean;
  /**
   * Consumes a pending `fail-next` fault with op `Replication` (or `ReplicateSecretToRegions`)
   * in the target Region; returns the error type to report, if any.
   */
  takeReplicationFault?(targetRegion: string, secretName: string): string | undefined;
  /** How long (lab ms) a replica removed from replication in this Region lingers (fault); see replica-removal.ts. */
  replicaDeleteDelayMs?(targetRegion: string): number | undefined;
}

/** The lab's convention for a replica KMS key that is unusable in its Region. */
export function isUnusableKmsKey(keyId: string): boolean {
  return /disabled|missing|pending-deletion|nonexistent/i.test(keyId);
}

const POLL_MS = 50;

export class Replicator {
  private readonly timers = new Map<string, NodeJS.Timeout>();

  constructor(
    private readonly stores: Map<string, RegionStore>,
    private readonly defaultLagMs: number,
    private readonly control: ReplicationControl,
    private readonly now: () => number,
    private readonly onChange: () => void,
  ) {}

  /** Marks every live replica of `primary` InProgress and arms their syncs. */
  propagate(primary: SecretRecord): void {
    for (const entry of primary.replicas) {
      if (entry.status === 'Failed') continue;
      this.start(primary, entry);
    }
  }

  /** (Re)starts the sync of one replica entry. */
  start(primary: SecretRecord, entry: ReplicaEntry): void {
    entry.status = 'InProgress';
    delete entry.statusMessage;
    const key = this.key(primary.region, primary.name, entry.region);
    if (this.timers.has(key)) return; // a pending sync will copy the latest state
    this.arm(key, primary.region, primary.name, entry.region, this.lagFor(entry.region));
  }

  /** Forgets any pending sync into `target` (replica removed or promoted). */
  cancel(sourceRegion: string, name: string, target: string): void {
    const key = this.key(sourceRegion, name, target);
    const t = this.timers.get(key);
    if (t) clearTimeout(t);
    this.timers.delete(key);
  }

  /** After a restore from the state file: re-arm every entry that was InProgress. */
  resume(): void {
    for (const store of this.stores.values()) {
      for (const rec of store.all()) {
        for (const entry of rec.replicas) if (entry.status === 'InProgress') this.start(rec, entry);
      }
    }
  }

  get pending(): number {
    return this.timers.size;
  }

  dispose(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }

  private lagFor(region: string): number {
    return this.control.lagMs?.(region) ?? this.defaultLagMs;
  }

  private key(source: string, name: string, target: string): string {
    return `${source}\u0000${name}\u0000${target}`;
  }

  private arm(key: string, source: string, name: string, target: string, delay: number): void {
    const t = setTimeout(
      () => {
        this.timers.delete(key);
        this.run(key, source, name, target);
      },
      Math.max(0, delay),
    );
    t.unref();
    this.timers.set(key, t);
  }

  private run(key: string, source: string, name: string, target: string): void {
    const primary = this.stores.get(source)?.byName.get(name);
    const entry = primary?.replicas.find((e) => e.region === target);
    if (!primary || primary.primaryRegion || !entry || entry.status !== 'InProgress') return;
    const c = this.control;
    // A replica still on its way out of the target (replica-removal.ts) is waited for.
    const lingering = this.stores.get(target)?.byName.get(name)?.replicaRemovalAt !== undefined;
    if (c.regionDown?.(source) || c.regionDown?.(target) || c.paused?.(target) || lingering) {
      this.arm(key, source, name, target, POLL_MS);
      return;
    }
    this.sync(primary, entry);
    this.onChange();
  }

  private fail(entry: ReplicaEntry, message: string): void {
    entry.status = 'Failed';
    entry.statusMessage = message;
    entry.forceOverwrite = false;
  }

  private sync(primary: SecretRecord, entry: ReplicaEntry): void {
    const target = entry.region;
    const store = this.stores.get(target);
    if (!store) {
      this.fail(
        entry,
        isKnownRegion(target)
          ? `Replication failed: Region ${target} is not enabled for this account.`
          : `Replication failed: ${target} is not a valid Region.`,
      );
      return;
    }
    const replicaArn = arnInRegion(primary.arn, target);
    const existing = store.byName.get(primary.name);
    const isOurReplica = existing !== undefined && existing.primaryRegion === primary.region && existing.arn === replicaArn;

    if (existing && !isOurReplica && !entry.forceOverwrite) {
      this.fail(entry, `Replication failed: Secret name ${primary.name} already exists in region ${target}.`);
      return;
    }
    if (isUnusableKmsKey(entry.kmsKeyId)) {
      this.fail(entry, `Replication failed: The KMS key ${entry.kmsKeyId} is disabled or not found in region ${target}.`);
      return;
    }
    const injected = this.control.takeReplicationFault?.(target, primary.name);
    if (injected) {
      this.fail(entry, `Replication failed: ${injected} (injected fault).`);
      return;
    }

    const now = this.now();
    const replica: SecretRecord = {
      arn: replicaArn,
      name: primary.name,
      region: target,
      createdDate: isOurReplica ? existing.createdDate : now,
      lastChangedDate: primary.lastChangedDate,
      rotationEnabled: primary.rotationEnabled,
      tags: primary.tags.map((t) => ({ ...t })),
      // A replica shows Tags as its primary does: [] once every tag was removed, absent if never tagged.
      ...(primary.tagged ? { tagged: true } : {}),
      versions: primary.versions.map((v) => {
        const old = isOurReplica ? existing.versions.find((o) => o.id === v.id) : undefined;
        const copy = { ...v, stages: [...v.stages] };
        if (old?.lastAccessedDate !== undefined) copy.lastAccessedDate = old.lastAccessedDate;
        else delete copy.lastAccessedDate;
        return copy;
      }),
      primaryRegion: primary.region,
      replicas: [],
    };
    if (isOurReplica && existing.lastAccessedDate !== undefined) replica.lastAccessedDate = existing.lastAccessedDate;
    if (primary.description !== undefined) replica.description = primary.description;
    if (entry.kmsKeyId !== DEFAULT_KMS_KEY) replica.kmsKeyId = entry.kmsKeyId;
    if (primary.deletedDate !== undefined) replica.deletedDate = primary.deletedDate;
    if (primary.deletionDate !== undefined) replica.deletionDate = primary.deletionDate;
    if (primary.rotationLambdaARN !== undefined) replica.rotationLambdaARN = primary.rotationLambdaARN;
    if (primary.rotationRules !== undefined) replica.rotationRules = { ...primary.rotationRules };
    if (primary.lastRotatedDate !== undefined) replica.lastRotatedDate = primary.lastRotatedDate;
    if (primary.nextRotationDate !== undefined) replica.nextRotationDate = primary.nextRotationDate;
    if (primary.resourcePolicy !== undefined) replica.resourcePolicy = primary.resourcePolicy;

    store.put(replica); // replaces a force-overwritten secret: its versions are gone
    entry.status = 'InSync';
    delete entry.statusMessage;
    entry.forceOverwrite = false;
  }
}

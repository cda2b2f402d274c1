/**
 * AWS Secrets Manager request quotas (per Region per account; AWS-FACTS.md) as data, and the
 * token buckets that enforce them. Burst = one second of rate, so a burst of 100 writes in one
 * second lets about 50 through and throttles the rest with ThrottlingException "Rate exceeded".
 */

export interface QuotaGroup {
  /** Group id used by `/_lab/fault/throttle {group}`. */
  group: string;
  ratePerSecond: number;
  adjustable: boolean | null;
  operations: readonly string[];
}

export const SECRETS_MANAGER_QUOTAS: readonly QuotaGroup[] = [
  {
    group: 'write',
    ratePerSecond: 50,
    adjustable: false,
    operations: [
      'PutSecretValue',
      'RemoveRegionsFromReplication',
      'ReplicateSecretToRegions',
      'StopReplicationToReplica',
      'UpdateSecret',
      'UpdateSecretVersionStage',
    ],
  },
  {
    group: 'policy',
    ratePerSecond: 50,
    adjustable: false,
    operations: ['GetResourcePolicy', 'PutResourcePolicy', 'DeleteResourcePolicy', 'ValidateResourcePolicy'],
  },
  { group: 'rotation', ratePerSecond: 50, adjustable: false, operations: ['RotateSecret', 'CancelRotateSecret'] },
  { group: 'tagging', ratePerSecond: 50, adjustable: false, operations: ['TagResource', 'UntagResource'] },
  { group: 'restore', ratePerSecond: 50, adjustable: false, operations: ['RestoreSecret'] },
  { group: 'create', ratePerSecond: 50, adjustable: false, operations: ['CreateSecret'] },
  { group: 'delete', ratePerSecond: 50, adjustable: false, operations: ['DeleteSecret'] },
  { group: 'batch-get', ratePerSecond: 100, adjustable: false, operations: ['BatchGetSecretValue'] },
  { group: 'list', ratePerSecond: 100, adjustable: null, operations: ['ListSecrets'] },
  { group: 'get-value', ratePerSecond: 10_000, adjustable: null, operations: ['GetSecretValue'] },
  { group: 'describe', ratePerSecond: 40_000, adjustable: null, operations: ['DescribeSecret'] },
];

/** The shared write group's rate (what `writeQuotaShare` is a share of). */
export const WRITE_TPS = 50;

const groupByOperation = new Map<string, QuotaGroup>();
for (const g of SECRETS_MANAGER_QUOTAS) for (const op of g.operations) groupByOperation.set(op, g);

export function quotaGroupOf(operation: string): QuotaGroup | undefined {
  return groupByOperation.get(operation);
}

export const QUOTA_GROUP_NAMES: readonly string[] = SECRETS_MANAGER_QUOTAS.map((g) => g.group);

/** A token bucket: `rate` tokens per second, capacity `burst` (default one second of rate), starts full. */
class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    readonly rate: number,
    readonly burst: number = Math.max(1, rate),
    now: number = performance.now(),
  ) {
    this.tokens = this.burst;
    this.last = now;
  }

  tryTake(now: number = performance.now()): boolean {
    const elapsed = now - this.last;
    if (elapsed > 0) {
      this.tokens = Math.min(this.burst, this.tokens + (elapsed * this.rate) / 1000);
      this.last = now;
    }
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return true;
    }
    return false;
  }
}

/**
 * Per-Region buckets. `enabled=false` switches the AWS quotas off; a throttle override (fault)
 * applies either way. The pseudo-group `all` throttles every Secrets Manager operation of a Region.
 */
export class QuotaEnforcer {
  private readonly buckets = new Map<string, TokenBucket>();

  constructor(public enabled: boolean) {}

  /** True if the call may proceed. `override(group)` returns a fault's TPS for that group, if any. */
  admit(region: string, operation: string, override?: (group: string) => number | undefined): boolean {
    const all = override?.('all');
    if (all !== undefined && !this.take(`${region}|all`, all)) return false;
    const g = groupByOperation.get(operation);
    if (!g) return true;
    const forced = override?.(g.group);
    if (forced !== undefined) return this.take(`${region}|${g.group}`, forced);
    if (!this.enabled) return true;
    return this.take(`${region}|${g.group}`, g.ratePerSecond);
  }

  reset(): void {
    this.buckets.clear();
  }

  private take(key: string, rate: number): boolean {
    let b = this.buckets.get(key);
    if (!b || b.rate !== rate) {
      b = new TokenBucket(rate);
      this.buckets.set(key, b);
    }
    return b.tryTake();
  }
}

/**
 * KMS key policies, per account and Region: the one part of KMS the lab models (keys themselves are
 * names; a key id containing disabled|missing|pending-deletion|nonexistent is unusable, see
 * lab/secrets-manager/replication.ts). A key without a registered policy has KMS's default key
 * policy: it allows its own account (`arn:aws:iam::<account>:root`) and nobody else, so a key of
 * another account is usable only when its policy was registered with a grant to the caller
 * (`POST /_lab/kms/key-policy`). The AWS managed key `aws/secretsmanager` can never be used from
 * another account (AWS: cross-account access needs a customer managed key).
 */
import { evaluateResourcePolicy, type Principal } from '../iam/resource-policies.js';

const AWS_MANAGED = /(^|:)alias\/aws\/secretsmanager$/;

interface KeyRef {
  accountId: string;
  region: string;
  /** Key id, alias (`alias/x`) or ARN as the secret names it. */
  keyId: string;
}

/** The key's ARN as KMS names it (an alias is named as the alias ARN). */
export function keyArnOf(k: KeyRef): string {
  if (k.keyId.startsWith('arn:')) return k.keyId;
  if (k.keyId.startsWith('alias/')) return `arn:aws:kms:${k.region}:${k.accountId}:${k.keyId}`;
  return `arn:aws:kms:${k.region}:${k.accountId}:key/${k.keyId}`;
}

/** The account that owns a key (an ARN names it; an id or alias belongs to the account of the secret using it). */
function keyAccountOf(k: KeyRef): string {
  return k.keyId.startsWith('arn:') ? (k.keyId.split(':')[4] ?? k.accountId) : k.accountId;
}

export class KmsKeyPolicies {
  private readonly policies = new Map<string, string>();

  put(k: KeyRef, policy: string): string {
    const arn = keyArnOf(k);
    this.policies.set(arn, policy);
    return arn;
  }

  get(k: KeyRef): string | undefined {
    return this.policies.get(keyArnOf(k));
  }

  /** Does the key's policy let `who` perform `action` (kms:Decrypt, kms:Encrypt...)? */
  allows(k: KeyRef, who: Principal, action: string): boolean {
    if (AWS_MANAGED.test(k.keyId)) return who.accountId === keyAccountOf(k);
    const policy = this.policies.get(keyArnOf(k));
    if (policy === undefined) return who.accountId === keyAccountOf(k); // the default key policy
    return evaluateResourcePolicy(policy, who, action, keyArnOf(k)) === 'allow';
  }

  list(): Array<{ keyArn: string; policy: string }> {
    return [...this.policies].map(([keyArn, policy]) => ({ keyArn, policy }));
  }

  reset(): void {
    this.policies.clear();
  }

  /** JSON-plain state for the state file. */
  snapshot(): Array<{ keyArn: string; policy: string }> {
    return this.list();
  }

  restore(state: unknown): void {
    this.reset();
    for (const k of Array.isArray(state) ? (state as Array<{ keyArn?: unknown; policy?: unknown }>) : []) {
      if (typeof k?.keyArn === 'string' && typeof k.policy === 'string') this.policies.set(k.keyArn, k.policy);
    }
  }
}

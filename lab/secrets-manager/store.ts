/**
 * Per-Region secret storage and SecretId resolution (name, full ARN, partial ARN).
 */
import { nameInArnResource, notFound, type SecretRecord } from './model.js';

export class RegionStore {
  readonly byName = new Map<string, SecretRecord>();

  constructor(readonly region: string) {}

  get size(): number {
    return this.byName.size;
  }

  put(rec: SecretRecord): void {
    this.byName.set(rec.name, rec);
  }

  remove(name: string): void {
    this.byName.delete(name);
  }

  /** Finds a secret by name, full ARN or partial ARN (the ARN without its 6-character suffix); undefined if absent. */
  find(secretId: string): SecretRecord | undefined {
    if (!secretId.startsWith('arn:')) return this.byName.get(secretId);
    const marker = ':secret:';
    const at = secretId.indexOf(marker);
    if (at < 0) return undefined;
    const resource = secretId.slice(at + marker.length);
    // Full ARN: name-XXXXXX. AWS reads an ARN ending in a hyphen and six characters as a full
    // ARN only (recorded: the partial ARN of a secret named like `x-a1b2c3` is not found).
    const { name, full } = nameInArnResource(resource);
    if (full) {
      const rec = this.byName.get(name);
      return rec && rec.arn === secretId ? rec : undefined;
    }
    // Partial ARN: the name itself.
    const rec = this.byName.get(resource);
    if (rec && rec.arn.slice(0, -7) === secretId) return rec;
    return undefined;
  }

  get(secretId: string): SecretRecord {
    const rec = this.find(secretId);
    if (!rec) throw notFound();
    return rec;
  }

  all(): IterableIterator<SecretRecord> {
    return this.byName.values();
  }

  clear(): void {
    this.byName.clear();
  }
}

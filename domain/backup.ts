/**
 * Backups (DESIGN.md invariants 2 and 8): what a backup secret holds, its name and tags within AWS's
 * limits, the manifest that records what cannot be a tag, the resource policy carried over, and the
 * pure rules of restore and prune. JSON-plain; never a secret value — versions by id, values by HMAC.
 *
 * A backup `secrets-dr-backup/<plan>/<secret>/<timestamp>` lives in the Region of the secret it saves:
 * - every version of the original that carries a staging label, under the same labels;
 * - the original's KMS key; the original's resource policy, each Resource/NotResource that names the
 *   original's ARN (exactly or by a wildcard that matches it) rewritten to the backup's ARN, `*` kept
 *   (in a secret's resource policy `*` means "this secret"), so every Deny applies to the copy as it did
 *   to the original (our own fence statement is the one statement left out: it locks the original);
 * - the original's tags plus the origin tags below (at most 50 in all, or the backup is refused);
 * - one more version labelled MANIFEST_STAGE: the original's name, ARN, key, description, tags, policy
 *   text, rotation settings and version ids → labels (no values). Rotation is never enabled on a backup.
 */
import { FENCE_SID } from './failover.js';
import { FAILBACK_FENCE_SID, FAILBACK_FENCE_TAG } from './failback.js';
import { FENCE_TAG } from './status.js';
import { z } from 'zod';

/** AWS's limits (botocore service-2.json 2017-10-17; the 50-tag limit from the Secrets Manager quotas page). */
export const AWS_LIMITS = {
  nameMax: 512,
  tagKeyMax: 128,
  tagValueMax: 256,
  tagsMax: 50,
  descriptionMax: 2048,
  valueMaxBytes: 65_536,
  policyMax: 20_480,
} as const;

/** The label of the backup's manifest version (never a label of the original's). */
export const MANIFEST_STAGE = 'SECRETS_DR_BACKUP_MANIFEST';

export const BACKUP_PREFIX = 'secrets-dr-backup/';

/** A short, stable, non-cryptographic digest (two FNV-1a 32-bit passes): names and change detection, not security. */
function shortHash(text: string): string {
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ 0x5bd1e995;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193) >>> 0;
    b = Math.imul(b ^ c, 0x01000193 ^ 0x2c1b3c6d) >>> 0;
  }
  return a.toString(16).padStart(8, '0') + b.toString(16).padStart(8, '0');
}

const TIMESTAMP_LENGTH = '2026-12-02T050000Z'.length;

/**
 * The part of a backup name that stands for the secret: the name itself when the whole backup name
 * fits in 512 characters, else its beginning and a digest of all of it (same secret, same stem).
 */
function stem(planName: string, secret: string): string {
  const room = AWS_LIMITS.nameMax - `${BACKUP_PREFIX}${planName}/`.length - 1 - TIMESTAMP_LENGTH;
  if (secret.length <= room) return secret;
  const digest = `+${shortHash(secret)}`;
  return `${secret.slice(0, Math.max(0, room - digest.length))}${digest}`;
}

/** `secrets-dr-backup/<plan>/` or `secrets-dr-backup/<plan>/<secret stem>/`. */
export function backupPrefix(planName: string, secret?: string): string {
  return `${BACKUP_PREFIX}${planName}/${secret === undefined ? '' : `${stem(planName, secret)}/`}`;
}

export function backupName(planName: string, secret: string, at: Date): string {
  return `${backupPrefix(planName, secret)}${at
    .toISOString()
    .replace(/[:]/g, '')
    .replace(/\.\d+Z$/, 'Z')}`;
}

export const BackupTag = {
  role: 'secrets-dr:role',
  plan: 'secrets-dr:plan',
  originArn: 'secrets-dr:origin-arn',
  originName: 'secrets-dr:origin-name',
  /** The rest of an origin name longer than a tag value (names go to 512, tag values to 256). */
  originName2: 'secrets-dr:origin-name-2',
  originVersion: 'secrets-dr:origin-version',
  /** Digest of the original's version ids → labels when backed up (labelsDigest): did it change since? */
  originLabels: 'secrets-dr:origin-labels',
  reason: 'secrets-dr:reason',
  workflowId: 'secrets-dr:workflow-id',
} as const;
const ORIGIN_TAG_KEYS: readonly string[] = Object.values(BackupTag);

/** A value as a tag value: itself when it fits, else its beginning and a digest of all of it (compare with the same function). */
export function tagValue(value: string): string {
  if (value.length <= AWS_LIMITS.tagValueMax) return value;
  const digest = `+${shortHash(value)}`;
  return `${value.slice(0, AWS_LIMITS.tagValueMax - digest.length)}${digest}`;
}

export type TagPair = readonly [string, string];
const tagOf = (tags: readonly { Key?: string; Value?: string }[] | undefined, key: string) => tags?.find((t) => t.Key === key)?.Value;

/** The origin name from a backup's tags (joined when it was split over two tags). */
export function originNameOf(tags: readonly { Key?: string; Value?: string }[] | undefined): string | undefined {
  const a = tagOf(tags, BackupTag.originName);
  return a === undefined ? undefined : a + (tagOf(tags, BackupTag.originName2) ?? '');
}

/** Version ids → labels, as one digest (order-independent; unlabelled versions and the manifest left out). */
export function labelsDigest(versionIdsToStages: Record<string, readonly string[] | undefined> | undefined): string {
  const parts = Object.entries(versionIdsToStages ?? {})
    .map(([id, stages]) => [id, (stages ?? []).filter((s) => s !== MANIFEST_STAGE).sort()] as const)
    .filter(([, stages]) => stages.length > 0)
    .map(([id, stages]) => `${id}=${stages.join(',')}`)
    .sort();
  return shortHash(parts.join(';'));
}

interface OriginTagInput {
  planName: string;
  originName: string;
  originArn: string;
  originVersion: string;
  originLabels: string;
  reason: string;
  workflowId: string;
}

/** The tool's tags on a backup (each value within 256 characters). */
export function originTags(o: OriginTagInput): TagPair[] {
  const name = o.originName;
  return [
    [BackupTag.role, 'backup'],
    [BackupTag.plan, tagValue(o.planName)],
    [BackupTag.originName, name.slice(0, AWS_LIMITS.tagValueMax)],
    ...(name.length > AWS_LIMITS.tagValueMax ? [[BackupTag.originName2, name.slice(AWS_LIMITS.tagValueMax)] as const] : []),
    [BackupTag.originArn, tagValue(o.originArn)],
    [BackupTag.originVersion, o.originVersion],
    [BackupTag.originLabels, o.originLabels],
    // Tag values allow letters, digits, spaces and _ . : / = + - @ only (AWS tagging rules); the manifest keeps the reason as written.
    [BackupTag.reason, o.reason.replace(/[^\p{L}\p{Z}\p{N}_.:/=+\-@]/gu, ' ').slice(0, AWS_LIMITS.tagValueMax)],
    [BackupTag.workflowId, tagValue(o.workflowId)],
  ];
}

/**
 * The backup's tags: the original's, then the tool's (ours win on a shared key; the manifest keeps the
 * original's exactly). More than 50 in all cannot be carried: the caller refuses the backup.
 */
export function backupTags(original: readonly TagPair[], origin: readonly TagPair[]): { tags: TagPair[] } | { problem: string } {
  const ours = new Set(origin.map(([k]) => k));
  const kept = original.filter(([k]) => !ours.has(k) && !ORIGIN_TAG_KEYS.includes(k));
  const tags = [...kept, ...origin];
  if (tags.length > AWS_LIMITS.tagsMax) {
    return { problem: `the original's ${kept.length} tags and secrets-dr's ${origin.length} origin tags exceed AWS's ${AWS_LIMITS.tagsMax} tags per secret` };
  }
  return { tags };
}

function wildcardMatches(pattern: string, text: string): boolean {
  const re = new RegExp(
    `^${pattern
      .split('')
      .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
      .join('')}$`,
  );
  return re.test(text);
}

/**
 * A resource policy moved from the secret `fromArn` to the secret `toArn`: every Resource/NotResource
 * entry that names `fromArn` (exactly or by a wildcard matching it, other than `*`) names `toArn`
 * instead; the rest is kept as written. Statements whose Sid is `dropSid` are left out (our fence).
 * Returns undefined for nothing left, or a problem when the text is not a policy document.
 */
/** The statements secrets-dr itself adds (failover's fence, failback's deny-writes): never carried to a backup or restored. */
export const TOOL_FENCE_SIDS: readonly string[] = [FENCE_SID, FAILBACK_FENCE_SID];
/** Their tags, likewise never carried. */
export const TOOL_FENCE_TAGS: readonly string[] = [FENCE_TAG, FAILBACK_FENCE_TAG];

export function retargetPolicy(policy: string, fromArn: string, toArn: string, dropSids: readonly string[] = []): { policy?: string } | { problem: string } {
  let doc: { Statement?: unknown } & Record<string, unknown>;
  try {
    doc = JSON.parse(policy) as typeof doc;
  } catch {
    return { problem: 'the resource policy is not valid JSON' };
  }
  if (typeof doc !== 'object' || doc === null) return { problem: 'the resource policy is not a JSON object' };
  const list = Array.isArray(doc.Statement) ? doc.Statement : doc.Statement !== undefined ? [doc.Statement] : [];
  const move = (r: unknown): unknown => {
    if (typeof r === 'string') return r !== '*' && wildcardMatches(r, fromArn) ? toArn : r;
    if (Array.isArray(r)) return [...new Set(r.map(move))];
    return r;
  };
  const statements = (list as Record<string, unknown>[])
    .filter((s) => !dropSids.includes(s?.Sid as string))
    .map((s) => {
      const out = { ...s };
      if ('Resource' in out) out.Resource = move(out.Resource);
      if ('NotResource' in out) out.NotResource = move(out.NotResource);
      return out;
    });
  if (statements.length === 0) return {};
  return { policy: JSON.stringify({ ...doc, Statement: statements }) };
}

const RotationSettings = z.object({
  enabled: z.boolean(),
  lambdaArn: z.string().optional(),
  rules: z.object({ AutomaticallyAfterDays: z.number().optional(), ScheduleExpression: z.string().optional(), Duration: z.string().optional() }).optional(),
});
type RotationSettings = z.infer<typeof RotationSettings>;

/** Recorded in the backup's manifest version: everything about the original that is not a value. */
export const BackupManifest = z.object({
  format: z.literal(1),
  origin: z.object({
    name: z.string(),
    arn: z.string(),
    region: z.string(),
    kmsKeyId: z.string().optional(),
    description: z.string().optional(),
    tags: z.array(z.tuple([z.string(), z.string()])),
    policy: z.string().optional(),
    rotation: RotationSettings,
    /** Labelled versions: the original's id, its labels, the backup's version id holding the value. */
    versions: z.array(z.object({ originVersionId: z.string(), stages: z.array(z.string()), backupVersionId: z.string(), binary: z.boolean() })),
  }),
  reason: z.string(),
  workflowId: z.string(),
  createdAt: z.string(),
});
export type BackupManifest = z.infer<typeof BackupManifest>;

export const BackupInfo = z.object({
  name: z.string(),
  arn: z.string(),
  region: z.string(),
  originName: z.string().optional(),
  originArn: z.string().optional(),
  reason: z.string().optional(),
  workflowId: z.string().optional(),
  createdAt: z.string().optional(),
  /** The backup holds the origin's AWSPREVIOUS too. */
  hasPrevious: z.boolean().optional(),
  /** Labelled versions of the original kept (the manifest not counted). */
  versionsKept: z.number().int().optional(),
  /** The manifest is written last: without it the backup was cut off (kept, never used to overwrite). */
  complete: z.boolean().optional(),
  /** The original (same name, this Region) differs from what the backup saved, or is gone. */
  originChanged: z.boolean().optional(),
});
export type BackupInfo = z.infer<typeof BackupInfo>;

/** What `backups restore` would change (also its `--dry-run` answer). Values compared inside the activity, never shown. */
export const RestorePlan = z.object({
  backup: z.string(),
  region: z.string(),
  secret: z.string(),
  /** What holds the name now. */
  target: z.enum(['missing', 'replica', 'standalone']),
  /** The secret holds labelled values the backup does not: backed up before anything moves. */
  needsBackup: z.boolean(),
  changes: z.array(z.object({ field: z.string(), from: z.string().optional(), to: z.string().optional() })),
});
export type RestorePlan = z.infer<typeof RestorePlan>;

export const RestoreResult = z.object({
  backup: z.string(),
  region: z.string(),
  secret: z.string(),
  arn: z.string(),
  /** Version id of the restored AWSCURRENT. */
  versionId: z.string(),
  /** The name was held by our replica: it was removed from replication first. */
  removedReplica: z.boolean(),
  alreadyRestored: z.boolean(),
  dryRun: z.boolean().optional(),
  plan: RestorePlan.optional(),
  /** The backup of what the secret held before the restore (it had changed since the backup). */
  backupOfCurrent: z.string().optional(),
  /** Fields that do not match the backup after the restore (e.g. rotation refused): needs attention. */
  attention: z.array(z.string()).optional(),
});
export type RestoreResult = z.infer<typeof RestoreResult>;

/** Which backups `backups prune --older-than` deletes, and which it keeps (with why). Pure. */
export function selectPrunable(
  backups: readonly BackupInfo[],
  nowMs: number,
  olderThanMs: number,
): { remove: BackupInfo[]; keep: Array<{ backup: BackupInfo; why: string }> } {
  const remove: BackupInfo[] = [];
  const keep: Array<{ backup: BackupInfo; why: string }> = [];
  const groups = new Map<string, BackupInfo[]>();
  for (const b of backups) {
    const key = `${b.region}\u0000${b.originName ?? b.name}`;
    groups.set(key, [...(groups.get(key) ?? []), b]);
  }
  for (const list of groups.values()) {
    const sorted = [...list].sort((x, y) => (y.createdAt ?? '').localeCompare(x.createdAt ?? ''));
    const old = (b: BackupInfo) => b.createdAt !== undefined && nowMs - Date.parse(b.createdAt) > olderThanMs;
    sorted.forEach((b, i) => {
      if (!old(b)) return keep.push({ backup: b, why: 'younger than the threshold' });
      // The newest backup of an original that changed after it is the only copy of what it holds.
      if (i === 0 && b.originChanged !== false && sorted.every(old)) {
        return keep.push({ backup: b, why: 'the only backup of an original that changed after it (or is gone)' });
      }
      remove.push(b);
    });
  }
  return { remove, keep };
}

/**
 * Does the backup (its tags) hold what the secret holds now (its version ids → labels)? Checked right
 * before a destructive call: a write or a label move after the backup would otherwise be lost.
 */
export function backupCovers(
  backup: readonly { Key?: string; Value?: string }[] | undefined,
  versionIdsToStages: Record<string, readonly string[] | undefined> | undefined,
): boolean {
  const saved = tagOf(backup, BackupTag.originLabels);
  if (saved !== undefined) return saved === labelsDigest(versionIdsToStages);
  const current = Object.entries(versionIdsToStages ?? {}).find(([, s]) => s?.includes('AWSCURRENT'))?.[0];
  return current !== undefined && tagOf(backup, BackupTag.originVersion) === current;
}

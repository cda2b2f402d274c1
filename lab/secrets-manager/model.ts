/**
 * The Secrets Manager data model held by the lab, and the small helpers every operation shares
 * (ARNs, error constructors, date encoding, input readers). Records are JSON-plain so the state
 * file is a plain dump of them.
 */
import { randomInt } from 'node:crypto';
import { LabError } from '../types.js';

export const AWSCURRENT = 'AWSCURRENT';
export const AWSPREVIOUS = 'AWSPREVIOUS';
export const AWSPENDING = 'AWSPENDING';
export const DEFAULT_KMS_KEY = 'alias/aws/secretsmanager';
/** Versions kept per secret; the oldest unlabelled ones beyond this are pruned. */
export const MAX_VERSIONS = 100;
export const REPLICA_WRITE_MESSAGE = "Operation not permitted on a replica secret. Call must be made in primary secret's region.";

export interface Tag {
  Key: string;
  Value: string;
}

export interface RotationRules {
  AutomaticallyAfterDays?: number;
  Duration?: string;
  ScheduleExpression?: string;
}

export interface SecretVersion {
  id: string;
  /** At most one of string / binary (base64) is set; neither on the empty version RotateSecret creates. */
  string?: string;
  binary?: string;
  stages: string[];
  createdDate: number;
  lastAccessedDate?: number;
}

type ReplicationState = 'InProgress' | 'InSync' | 'Failed';

export interface ReplicaEntry {
  region: string;
  kmsKeyId: string;
  status: ReplicationState;
  statusMessage?: string;
  lastAccessedDate?: number;
  /** Force-overwrite was asked for this Region and not yet consumed by a successful sync. */
  forceOverwrite?: boolean;
}

/** Cross-account replication status (the model's StatusType). */
type CrossAccountStatus = 'Pending' | 'InProgress' | 'InSync' | 'Failed' | 'Detached';

/**
 * One end of a cross-account replication link: on a primary, the replica's ARN (in the other
 * account); on a cross-account replica, the primary's ARN.
 */
export interface CrossAccountLink {
  arn: string;
  status: CrossAccountStatus;
  statusMessage?: string;
  /** ReplicationRoleARN given to AssociateCrossAccountReplica (primary side). */
  roleArn?: string;
  /** ReplicaRestriction given to AssociateCrossAccountReplica (primary side; default SameOrg). */
  restriction?: 'SameOrg' | 'NoRestriction';
}

export interface SecretRecord {
  arn: string;
  name: string;
  region: string;
  description?: string;
  /** undefined = the AWS managed key. */
  kmsKeyId?: string;
  createdDate: number;
  lastChangedDate: number;
  lastAccessedDate?: number;
  /** When DeleteSecret scheduled the deletion (DescribeSecret's DeletedDate). */
  deletedDate?: number;
  /** When the scheduled hard delete happens. */
  deletionDate?: number;
  rotationEnabled: boolean;
  rotationLambdaARN?: string;
  rotationRules?: RotationRules;
  lastRotatedDate?: number;
  /** DescribeSecret's NextRotationDate: the last second of the next rotation window. */
  nextRotationDate?: number;
  /** When, inside that window, the lab starts the scheduled rotation. */
  rotationStartAt?: number;
  tags: Tag[];
  /** TagResource or CreateSecret(Tags) ran once: AWS then shows `Tags` (`[]` once all are removed). */
  tagged?: boolean;
  resourcePolicy?: string;
  /** Oldest first. */
  versions: SecretVersion[];
  /** Set on replicas only: the Region of the primary. */
  primaryRegion?: string;
  /**
   * Set on a replica removed from replication (RemoveRegionsFromReplication) that has not
   * disappeared yet: the lab time at which it does (see replica-removal.ts).
   */
  replicaRemovalAt?: number;
  /** Set on primaries with replication: one entry per replica Region. */
  replicas: ReplicaEntry[];
  /** Set on a cross-account replica (CreateSecret with CrossAccountPrimaryARN) until StopReplicationToReplica. */
  crossAccountPrimary?: CrossAccountLink;
  /** Set on a primary once AssociateCrossAccountReplica linked a replica in another account (at most one live link). */
  crossAccountReplicas?: CrossAccountLink[];
}

/** The account of a secret ARN (`arn:aws:secretsmanager:<region>:<account>:secret:...`), undefined for a name. */
export function accountOfArn(arn: string): string | undefined {
  if (!arn.startsWith('arn:')) return undefined;
  return arn.split(':')[4];
}

/** True while a cross-account link carries replication (anything but Detached). */
export function isLiveLink(link: CrossAccountLink): boolean {
  return link.status !== 'Detached';
}

export function err(type: string, message: string, status = 400): LabError {
  return new LabError(type, message, status);
}
export const notFound = (what = "Secrets Manager can't find the specified secret."): LabError => err('ResourceNotFoundException', what);
export const invalidParam = (message: string): LabError => err('InvalidParameterException', message);
export const invalidRequest = (message: string): LabError => err('InvalidRequestException', message);

const SUFFIX_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
export function randomSuffix(): string {
  let s = '';
  for (let i = 0; i < 6; i++) s += SUFFIX_ALPHABET[randomInt(SUFFIX_ALPHABET.length)];
  return s;
}

export function secretArn(region: string, accountId: string, name: string, suffix: string): string {
  return `arn:aws:secretsmanager:${region}:${accountId}:secret:${name}-${suffix}`;
}

/** The same ARN in another Region (replica ARNs differ from the primary's only by Region). */
export function arnInRegion(arn: string, region: string): string {
  const parts = arn.split(':');
  parts[3] = region;
  return parts.join(':');
}

/**
 * The secret name in an ARN's resource part (after `:secret:`). AWS reads a resource ending in a
 * hyphen and six characters as a full ARN (name-XXXXXX), anything else as a partial ARN (the name).
 */
export function nameInArnResource(resource: string): { name: string; full: boolean } {
  const full = resource.length > 7 && resource[resource.length - 7] === '-' && SUFFIX_RE.test(resource);
  return full ? { name: resource.slice(0, -7), full } : { name: resource, full };
}
const SUFFIX_RE = /[A-Za-z0-9]{6}$/;

/** AWS JSON 1.1 timestamps are epoch seconds. */
export function epoch(ms: number | undefined): number | undefined {
  return ms === undefined ? undefined : ms / 1000;
}

/** LastAccessedDate is reported to the day. */
export function dayOf(ms: number): number {
  return Math.floor(ms / 86_400_000) * 86_400_000;
}

export function currentVersion(rec: SecretRecord): SecretVersion | undefined {
  for (let i = rec.versions.length - 1; i >= 0; i--) {
    const v = rec.versions[i]!;
    if (v.stages.includes(AWSCURRENT)) return v;
  }
  return undefined;
}

export function findVersion(rec: SecretRecord, id: string): SecretVersion | undefined {
  return rec.versions.find((v) => v.id === id);
}

/** A version's labels as AWS lists them (sorted). */
export function stagesOf(v: SecretVersion): string[] {
  return v.stages.length < 2 ? [...v.stages] : [...v.stages].sort();
}

/** Labelled versions to their labels; undefined when no version carries a label (AWS leaves the field out). */
export function versionsToStages(rec: SecretRecord): Record<string, string[]> | undefined {
  let out: Record<string, string[]> | undefined;
  for (const v of rec.versions) {
    if (v.stages.length > 0) (out ??= {})[v.id] = stagesOf(v);
  }
  return out;
}

// ---- input readers: AWS answers a bad shape with InvalidParameterException ----

export type Input = Record<string, unknown>;

export function optString(input: Input, key: string): string | undefined {
  const v = input[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw invalidParam(`${key} must be a string.`);
  return v;
}

export function reqString(input: Input, key: string): string {
  const v = optString(input, key);
  if (v === undefined || v === '') throw invalidParam(`You must provide a value for the ${key} parameter.`);
  return v;
}

export function optBool(input: Input, key: string): boolean | undefined {
  const v = input[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') throw invalidParam(`${key} must be a boolean.`);
  return v;
}

export function optInt(input: Input, key: string, min: number, max: number): number | undefined {
  const v = input[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw invalidParam(`${key} must be an integer between ${min} and ${max}.`);
  }
  return v;
}

export function optStringArray(input: Input, key: string): string[] | undefined {
  const v = input[key];
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw invalidParam(`${key} must be a list of strings.`);
  return v as string[];
}

export function readTags(input: Input, key = 'Tags'): Tag[] | undefined {
  const v = input[key];
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v)) throw invalidParam(`${key} must be a list.`);
  return v.map((t) => {
    const tag = t as Record<string, unknown>;
    if (typeof tag?.Key !== 'string' || tag.Key.length === 0 || tag.Key.length > 128) throw invalidParam('Tag keys must be 1-128 characters.');
    const value = tag.Value === undefined || tag.Value === null ? '' : tag.Value;
    if (typeof value !== 'string' || value.length > 256) throw invalidParam('Tag values must be at most 256 characters.');
    if (tag.Key.toLowerCase().startsWith('aws:')) throw invalidParam('Tag keys with the prefix aws: are reserved.');
    return { Key: tag.Key, Value: value };
  });
}

/** SecretString / SecretBinary from a request; undefined when neither is given. */
export function readValue(input: Input): { string?: string; binary?: string } | undefined {
  const s = optString(input, 'SecretString');
  const b = optString(input, 'SecretBinary');
  if (s !== undefined && b !== undefined) throw invalidParam("You can't specify both a binary secret value and a string secret value in the same secret.");
  if (s !== undefined) {
    if (Buffer.byteLength(s, 'utf8') > 65_536) throw invalidParam('SecretString exceeds the maximum size of 65536 bytes.');
    return { string: s };
  }
  if (b !== undefined) {
    const bytes = Buffer.from(b, 'base64');
    if (bytes.length > 65_536) throw invalidParam('SecretBinary exceeds the maximum size of 65536 bytes.');
    return { binary: bytes.toString('base64') };
  }
  return undefined;
}

export function sameValue(v: SecretVersion, value: { string?: string; binary?: string }): boolean {
  return v.string === value.string && v.binary === value.binary;
}

const TOKEN_RE = /^[\x21-\x7e]{32,64}$/;
export function readToken(input: Input): string | undefined {
  const t = optString(input, 'ClientRequestToken');
  if (t !== undefined && !TOKEN_RE.test(t)) throw invalidParam('ClientRequestToken must be 32-64 printable characters.');
  return t;
}

const NAME_RE = /^[A-Za-z0-9/_+=.@-]{1,512}$/;
const INVALID_NAME_MESSAGE = 'Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!';
/** A secret name (CreateSecret's Name): AWS answers ValidationException. */
export function checkName(name: string): void {
  if (!NAME_RE.test(name)) throw err('ValidationException', INVALID_NAME_MESSAGE);
}

/** A SecretId that is not an ARN must be a valid name (recorded: every operation that takes one). */
export function checkSecretId(secretId: string): void {
  if (!secretId.startsWith('arn:')) checkName(secretId);
}

/** AWS's message for a ClientRequestToken already used by a version with another value. */
export function tokenInUse(token: string, arn: string): LabError {
  return err('ResourceExistsException', `You can't use ClientRequestToken ${token} because that value is already in use for a version of secret ${arn}.`);
}

/**
 * The emulated regional AWS Secrets Manager. One instance serves every Region of the lab;
 * each operation runs against the store of the Region the request was signed for.
 * Transport, faults, quotas and counters belong to lab/server.ts.
 */
import { randomUUID } from 'node:crypto';
import type { EmulatedService, EventSink, LabClock, RequestContext } from '../types.js';
import { decodeToken, encodeToken, matchesFilters, primaryRegionOf, readFilters } from './list-filters.js';
import {
  arnInRegion,
  AWSCURRENT,
  AWSPENDING,
  AWSPREVIOUS,
  checkName,
  checkSecretId,
  currentVersion,
  dayOf,
  DEFAULT_KMS_KEY,
  epoch,
  err,
  findVersion,
  invalidParam,
  invalidRequest,
  MAX_VERSIONS,
  nameInArnResource,
  notFound,
  optBool,
  optInt,
  optString,
  optStringArray,
  randomSuffix,
  readTags,
  readToken,
  readValue,
  REPLICA_WRITE_MESSAGE,
  reqString,
  sameValue,
  secretArn,
  stagesOf,
  tokenInUse,
  versionsToStages,
  type Input,
  type SecretRecord,
  type SecretVersion,
  type Tag,
} from './model.js';
import { generatePassword } from './password.js';
import { isUnusableKmsKey, Replicator, type ReplicationControl } from './replication.js';
import { describeRules, parseSchedule, readRotationRules, startWithin } from './rotation.js';
import { newRotationToken, RotationRunner, type RotationControl, type RotationInFlight } from './rotation-runner.js';
import { LambdaFunctions } from '../lambda/functions.js';
import { DEFAULT_REPLICA_DELETE_DELAY_MS, ReplicaRemover } from './replica-removal.js';
import { RegionStore } from './store.js';
import { deniedByResourcePolicy } from './resource-policy.js';
import { CROSS_ACCOUNT_REPLICA_WRITE_MESSAGE, CrossAccountReplicator, parseSecretArn } from './cross-account.js';
import { accountOfArn, isLiveLink, type CrossAccountLink } from './model.js';
import { keyArnOf, KmsKeyPolicies } from '../kms/key-policies.js';
import { evaluateResourcePolicy } from '../iam/resource-policies.js';

interface SecretsManagerOptions {
  accountId: string;
  regions: readonly string[];
  clock: LabClock;
  /** Default replication lag, real milliseconds. */
  replicationLagMs: number;
  emit?: EventSink;
  /** Fault hooks for replication (pause, lag, outage). */
  control?: ReplicationControl;
  /** Called after any state change (for the debounced state file). */
  onChange?: () => void;
  /** How often (real ms) rotation schedules and expired recovery windows are checked. Default 100. */
  schedulerIntervalMs?: number;
  /** The lab's Lambda functions (rotation functions RotateSecret invokes); default: none. */
  functions?: LambdaFunctions;
  /** Fault hooks for rotations (outage, rotation-stall, fail-next). */
  rotationControl?: RotationControl;
  /** How long (lab ms) a replica removed from replication lingers; default 3000, 0 = at once (replica-removal.ts). */
  replicaDeleteDelayMs?: number;
  /** The Secrets Manager of another lab account, if that account exists (cross-account replication). */
  peer?: (accountId: string) => SecretsManagerService | undefined;
  /** KMS key policies of every account (cross-account key checks); default: none registered. */
  kms?: KmsKeyPolicies;
  /** The organization of an account (ReplicaRestriction SameOrg); default: one organization for all. */
  organizationOf?: (accountId: string) => string;
}

/** One secret for `seed` (the /_lab/seed route): bulk creation that bypasses quotas. */
export interface SeedSecret {
  name: string;
  value?: string;
  binary?: string;
  tags?: Tag[];
  description?: string;
  kmsKeyId?: string;
  replicaRegions?: (string | { region: string; kmsKeyId?: string })[];
}

type Handler = (input: Input, ctx: RequestContext) => unknown;

const DELETED_MESSAGE = "You can't perform this operation on the secret because it was marked for deletion.";
const PREVIOUS_ROTATION_MESSAGE = "A previous rotation isn't complete. That rotation will be reattempted.";

/** AWSPENDING on a version other than AWSCURRENT's: a rotation in progress, or one that was cut off. */
function pendingRotation(rec: SecretRecord): boolean {
  return rec.versions.some((v) => v.stages.includes(AWSPENDING) && !v.stages.includes(AWSCURRENT));
}
const NO_TOKEN_MESSAGE = 'You must provide a ClientRequestToken value. We recommend a UUID-type value.';
/**
 * Operations whose ClientRequestToken AWS requires (the SDKs and the CLI fill it in; a raw request
 * without one is refused, before the secret is looked up), with the error type recorded for each.
 */
const TOKEN_REQUIRED = new Map([
  ['CreateSecret', 'InvalidRequestException'],
  ['UpdateSecret', 'InvalidRequestException'],
  ['PutSecretValue', 'InvalidRequestException'],
  ['RotateSecret', 'InvalidParameterException'],
]);

export class SecretsManagerService implements EmulatedService {
  readonly accountId: string;
  readonly regions: readonly string[];
  private readonly clock: LabClock;
  private readonly stores = new Map<string, RegionStore>();
  private readonly replicator: Replicator;
  private readonly remover: ReplicaRemover;
  private readonly emit: EventSink | undefined;
  private readonly onChange: () => void;
  private readonly scheduler: NodeJS.Timeout;
  private readonly handlers: Record<string, Handler>;
  readonly functions: LambdaFunctions;
  private readonly rotations: RotationRunner;
  private readonly crossAccount: CrossAccountReplicator;
  private readonly peer: (accountId: string) => SecretsManagerService | undefined;
  private readonly kms: KmsKeyPolicies;
  private readonly organizationOf: (accountId: string) => string;

  constructor(opts: SecretsManagerOptions) {
    this.accountId = opts.accountId;
    this.regions = [...opts.regions];
    this.clock = opts.clock;
    this.emit = opts.emit;
    this.onChange = opts.onChange ?? (() => undefined);
    for (const r of this.regions) this.stores.set(r, new RegionStore(r));
    this.replicator = new Replicator(this.stores, opts.replicationLagMs, opts.control ?? {}, () => this.clock.now(), this.onChange);
    this.functions = opts.functions ?? new LambdaFunctions(opts.accountId, this.regions);
    this.rotations = new RotationRunner({
      clock: this.clock,
      control: opts.rotationControl ?? {},
      call: (region, op, input) => this.handleSync(op, input, this.internalContext(region)),
      onSucceeded: (region, arn, token) => this.rotationSucceeded(region, arn, token),
      onGivenUp: (region, arn, token, reason) => this.rotationGivenUp(region, arn, token, reason),
    });
    this.remover = new ReplicaRemover(
      this.stores,
      opts.replicaDeleteDelayMs ?? DEFAULT_REPLICA_DELETE_DELAY_MS,
      opts.control ?? {},
      () => this.clock.now(),
      this.onChange,
    );
    this.peer = opts.peer ?? (() => undefined);
    this.kms = opts.kms ?? new KmsKeyPolicies();
    this.organizationOf = opts.organizationOf ?? (() => 'o-lab');
    this.crossAccount = new CrossAccountReplicator({
      find: (arn) => this.findAcrossAccounts(arn),
      control: opts.control ?? {},
      lagMs: (region) => opts.control?.lagMs?.(region) ?? opts.replicationLagMs,
      now: () => this.clock.now(),
      onChange: this.onChange,
    });
    this.scheduler = setInterval(() => this.runSchedules(), opts.schedulerIntervalMs ?? 100);
    this.scheduler.unref();
    this.handlers = {
      CreateSecret: (i, c) => this.createSecret(i, c),
      DescribeSecret: (i, c) => this.describeSecret(i, c),
      GetSecretValue: (i, c) => this.getSecretValue(i, c),
      BatchGetSecretValue: (i, c) => this.batchGetSecretValue(i, c),
      ListSecrets: (i, c) => this.listSecrets(i, c),
      ListSecretVersionIds: (i, c) => this.listSecretVersionIds(i, c),
      PutSecretValue: (i, c) => this.putSecretValue(i, c),
      UpdateSecret: (i, c) => this.updateSecret(i, c),
      UpdateSecretVersionStage: (i, c) => this.updateSecretVersionStage(i, c),
      DeleteSecret: (i, c) => this.deleteSecret(i, c),
      RestoreSecret: (i, c) => this.restoreSecret(i, c),
      TagResource: (i, c) => this.tagResource(i, c),
      UntagResource: (i, c) => this.untagResource(i, c),
      PutResourcePolicy: (i, c) => this.putResourcePolicy(i, c),
      GetResourcePolicy: (i, c) => this.getResourcePolicy(i, c),
      DeleteResourcePolicy: (i, c) => this.deleteResourcePolicy(i, c),
      ValidateResourcePolicy: (i, c) => this.validateResourcePolicy(i, c),
      ReplicateSecretToRegions: (i, c) => this.replicateSecretToRegions(i, c),
      RemoveRegionsFromReplication: (i, c) => this.removeRegionsFromReplication(i, c),
      StopReplicationToReplica: (i, c) => this.stopReplicationToReplica(i, c),
      AssociateCrossAccountReplica: (i, c) => this.associateCrossAccountReplica(i, c),
      DisassociateCrossAccountReplica: (i, c) => this.disassociateCrossAccountReplica(i, c),
      RotateSecret: (i, c) => this.rotateSecret(i, c),
      CancelRotateSecret: (i, c) => this.cancelRotateSecret(i, c),
      GetRandomPassword: (i) => this.getRandomPassword(i),
    };
  }

  /** The operations this emulator implements. */
  get operations(): string[] {
    return Object.keys(this.handlers);
  }

  async handle(operation: string, input: Record<string, unknown>, ctx: RequestContext): Promise<unknown> {
    return this.handleSync(operation, input, ctx);
  }

  /** Same as `handle`, without the promise (the server's hot path). */
  handleSync(operation: string, input: Record<string, unknown>, ctx: RequestContext): unknown {
    const handler = Object.hasOwn(this.handlers, operation) ? this.handlers[operation] : undefined;
    if (!handler) throw err('UnknownOperationException', `Secrets Manager has no operation ${operation}.`);
    const tokenError = TOKEN_REQUIRED.get(operation);
    if (tokenError !== undefined && (input.ClientRequestToken === undefined || input.ClientRequestToken === null)) {
      throw err(tokenError, NO_TOKEN_MESSAGE);
    }
    if (typeof input.SecretId === 'string') checkSecretId(input.SecretId);
    // A full ARN of another lab account: cross-account access, allowed only by the secret's resource policy (and its key's).
    if (typeof input.SecretId === 'string' && ctx.principalArn !== undefined) {
      const owner = accountOfArn(input.SecretId);
      if (owner !== undefined && owner !== ctx.accountId) return this.crossAccountCall(owner, operation, input, ctx);
    }
    // An explicit Deny for everyone in the secret's resource policy (e.g. a fence) refuses the call.
    if (typeof input.SecretId === 'string') {
      const rec = this.stores.get(ctx.region)?.find(input.SecretId);
      if (rec?.resourcePolicy !== undefined && deniedByResourcePolicy(rec.resourcePolicy, operation)) {
        throw err(
          'AccessDeniedException',
          `User is not authorized to perform: secretsmanager:${operation} on resource: ${rec.name} with an explicit deny in a resource-based policy`,
        );
      }
    }
    return handler(input, ctx);
  }

  reset(): void {
    this.replicator.dispose();
    this.crossAccount.dispose();
    this.rotations.reset();
    this.remover.clear();
    for (const s of this.stores.values()) s.clear();
  }

  /** Stops timers (lab close). */
  dispose(): void {
    this.replicator.dispose();
    this.crossAccount.dispose();
    this.rotations.reset();
    clearInterval(this.scheduler);
  }

  /** Rotations whose steps are still running or held by a fault (for /_lab/status and tests). */
  rotationsInFlight(): RotationInFlight[] {
    return this.rotations.list();
  }

  snapshot(): unknown {
    const regions: Record<string, SecretRecord[]> = {};
    for (const [r, s] of this.stores) regions[r] = [...s.all()];
    return structuredClone({ version: 1, regions });
  }

  restore(state: unknown): void {
    this.reset();
    const regions = (state as { regions?: Record<string, SecretRecord[]> } | undefined)?.regions ?? {};
    for (const [r, list] of Object.entries(regions)) {
      const store = this.stores.get(r);
      if (!store) continue; // a Region no longer served
      for (const rec of structuredClone(list)) store.put(rec);
    }
    this.replicator.resume();
    this.remover.resume();
    for (const st of this.stores.values()) this.crossAccount.resume(st.all());
  }

  /** Secrets per Region (for /_lab/status). */
  counts(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [r, s] of this.stores) out[r] = s.size;
    return out;
  }

  /** Syncs not yet applied (for /_lab/status and tests). */
  get pendingReplications(): number {
    return this.replicator.pending;
  }

  /** Replicas removed from replication that have not disappeared yet (for /_lab/status and tests). */
  get pendingReplicaRemovals(): number {
    return this.remover.count;
  }

  /** Bulk creation for tests and benchmarks: real secrets (versions, ARNs, replication), no quotas, no events. */
  seed(region: string, secrets: SeedSecret[]): { created: number; arns: string[] } {
    const store = this.storeFor(region);
    const now = this.clock.now();
    const arns: string[] = [];
    // Validate everything first so a bad entry creates nothing.
    const seen = new Set<string>();
    for (const s of secrets) {
      if (typeof s?.name !== 'string') throw invalidParam('Each seeded secret needs a name.');
      checkName(s.name);
      if (store.byName.has(s.name) || seen.has(s.name)) throw err('ResourceExistsException', `The secret ${s.name} already exists in ${region}.`);
      seen.add(s.name);
    }
    for (const s of secrets) {
      const rec = this.newRecord(region, s.name, now);
      if (s.description !== undefined) rec.description = s.description;
      if (s.kmsKeyId !== undefined) rec.kmsKeyId = s.kmsKeyId;
      if (s.tags && s.tags.length > 0) {
        rec.tags = readTags({ Tags: s.tags }) ?? [];
        rec.tagged = true;
      }
      if (s.value !== undefined || s.binary !== undefined) {
        const value = readValue(s.binary !== undefined ? { SecretBinary: s.binary } : { SecretString: s.value });
        if (value) this.addVersion(rec, randomUUID(), value, [AWSCURRENT], now);
      }
      store.put(rec);
      const replicas = (s.replicaRegions ?? []).map((r) => (typeof r === 'string' ? { Region: r } : { Region: r.region, KmsKeyId: r.kmsKeyId }));
      if (replicas.length > 0) this.addReplicaEntries(rec, replicas, false);
      arns.push(rec.arn);
    }
    this.onChange();
    return { created: secrets.length, arns };
  }

  // ------------------------------------------------------------------ helpers

  private storeFor(region: string): RegionStore {
    const s = this.stores.get(region);
    if (!s) throw err('UnrecognizedClientException', `The lab does not serve Region ${region}.`);
    return s;
  }

  private lookup(ctx: RequestContext, input: Input): SecretRecord {
    return this.storeFor(ctx.region).get(reqString(input, 'SecretId'));
  }

  private newRecord(region: string, name: string, now: number): SecretRecord {
    return {
      arn: secretArn(region, this.accountId, name, randomSuffix()),
      name,
      region,
      createdDate: now,
      lastChangedDate: now,
      rotationEnabled: false,
      tags: [],
      versions: [],
      replicas: [],
    };
  }

  private assertPrimary(rec: SecretRecord): void {
    if (rec.primaryRegion) throw invalidParam(REPLICA_WRITE_MESSAGE);
    if (rec.crossAccountPrimary) throw invalidParam(CROSS_ACCOUNT_REPLICA_WRITE_MESSAGE);
  }

  /** A secret of this account by name or ARN in `region` (no resource policy checks: the lab's own lookups). */
  findOwn(region: string, secretId: string): SecretRecord | undefined {
    return this.stores.get(region)?.find(secretId);
  }

  /** A secret of any lab account by its full ARN. */
  findAcrossAccounts(arn: string): SecretRecord | undefined {
    const account = accountOfArn(arn);
    const region = arn.split(':')[3] ?? '';
    if (account === undefined || account === this.accountId) return this.findOwn(region, arn);
    return this.peer(account)?.findOwn(region, arn);
  }

  private assertNotDeleted(rec: SecretRecord): void {
    if (rec.deletedDate !== undefined) throw invalidRequest(DELETED_MESSAGE);
  }

  /** Resource policy writes: on primaries, and on cross-account replicas (their owner grants AcceptCrossAccountReplication). */
  private policyWritable(ctx: RequestContext, input: Input): SecretRecord {
    const rec = this.lookup(ctx, input);
    if (rec.primaryRegion) throw invalidParam(REPLICA_WRITE_MESSAGE);
    this.assertNotDeleted(rec);
    return rec;
  }

  private writable(ctx: RequestContext, input: Input): SecretRecord {
    const rec = this.lookup(ctx, input);
    this.assertPrimary(rec);
    this.assertNotDeleted(rec);
    return rec;
  }

  /**
   * Attaches `stages` to `version`, taking them from any other version. Moving AWSCURRENT
   * hands AWSPREVIOUS to the version that held AWSCURRENT.
   */
  private attachStages(rec: SecretRecord, version: SecretVersion, stages: string[]): void {
    for (const stage of stages) {
      if (version.stages.includes(stage)) continue;
      const holder = rec.versions.find((v) => v !== version && v.stages.includes(stage));
      if (holder) holder.stages = holder.stages.filter((s) => s !== stage);
      if (stage === AWSCURRENT && holder) {
        for (const v of rec.versions) if (v.stages.includes(AWSPREVIOUS)) v.stages = v.stages.filter((s) => s !== AWSPREVIOUS);
        holder.stages.push(AWSPREVIOUS);
      }
      version.stages.push(stage);
    }
  }

  private addVersion(rec: SecretRecord, id: string, value: { string?: string; binary?: string }, stages: string[], now: number): SecretVersion {
    const version: SecretVersion = { id, stages: [], createdDate: now };
    if (value.string !== undefined) version.string = value.string;
    if (value.binary !== undefined) version.binary = value.binary;
    rec.versions.push(version);
    this.attachStages(rec, version, stages);
    this.prune(rec);
    return version;
  }

  /** Unlabelled versions beyond MAX_VERSIONS are dropped, oldest first. */
  private prune(rec: SecretRecord): void {
    let excess = rec.versions.length - MAX_VERSIONS;
    if (excess <= 0) return;
    rec.versions = rec.versions.filter((v) => {
      if (excess > 0 && v.stages.length === 0) {
        excess--;
        return false;
      }
      return true;
    });
  }

  /** Idempotent version creation shared by CreateSecret, PutSecretValue and UpdateSecret. */
  private idempotentVersion(
    rec: SecretRecord,
    token: string,
    value: { string?: string; binary?: string },
    stages: string[],
    now: number,
  ): { version: SecretVersion; created: boolean } {
    const existing = findVersion(rec, token);
    if (existing && !hasValue(existing)) {
      // The empty version RotateSecret created: the rotation function's createSecret fills it.
      if (value.string !== undefined) existing.string = value.string;
      if (value.binary !== undefined) existing.binary = value.binary;
      this.attachStages(rec, existing, stages);
      return { version: existing, created: true };
    }
    if (existing) {
      if (sameValue(existing, value)) return { version: existing, created: false };
      throw tokenInUse(token, rec.arn);
    }
    const previous = stages.includes(AWSCURRENT) ? currentVersion(rec) : undefined;
    const version = this.addVersion(rec, token, value, stages, now);
    // A value written as AWSCURRENT leaves the old current version with AWSPREVIOUS and without
    // AWSPENDING (recorded: a stale AWSPENDING does not survive on it).
    if (previous && previous !== version) previous.stages = previous.stages.filter((s) => s !== AWSPENDING);
    return { version, created: true };
  }

  private changed(rec: SecretRecord, now: number): void {
    rec.lastChangedDate = now;
    if (!rec.primaryRegion) this.replicator.propagate(rec);
    if (rec.crossAccountReplicas?.length) this.crossAccount.propagate(rec);
    this.onChange();
  }

  private event(ctx: RequestContext, eventName: string, rec: SecretRecord, requestParameters: Record<string, unknown>, versionId?: string): void {
    if (!this.emit) return;
    const responseElements: Record<string, unknown> = { arn: rec.arn };
    if (versionId !== undefined) responseElements.versionId = versionId;
    this.emit({
      region: ctx.region,
      source: 'aws.secretsmanager',
      detailType: 'AWS API Call via CloudTrail',
      detail: {
        eventVersion: '1.08',
        eventSource: 'secretsmanager.amazonaws.com',
        eventName,
        eventTime: new Date(this.clock.now()).toISOString(),
        awsRegion: ctx.region,
        requestParameters,
        responseElements,
        requestID: ctx.requestId,
        eventID: randomUUID(),
        eventType: 'AwsApiCall',
        recipientAccountId: ctx.accountId,
      },
      resources: [rec.arn],
    });
  }

  private replicationStatus(rec: SecretRecord): Record<string, unknown>[] {
    return rec.replicas.map((e) => ({
      Region: e.region,
      KmsKeyId: e.kmsKeyId,
      Status: e.status,
      StatusMessage: e.statusMessage,
      LastAccessedDate: epoch(e.lastAccessedDate),
    }));
  }

  private readReplicaRegions(raw: unknown, ownRegion: string): { Region: string; KmsKeyId?: string }[] {
    if (!Array.isArray(raw) || raw.length === 0) throw invalidParam('AddReplicaRegions must list at least one Region.');
    const seen = new Set<string>();
    return raw.map((x: unknown) => {
      const r = x as Record<string, unknown>;
      if (typeof r?.Region !== 'string' || r.Region === '') throw invalidParam('Each replica Region needs a Region.');
      if (!/^[a-z]{2}(-[a-z]+)+-\d$/.test(r.Region)) throw invalidParam(`Invalid Region: ${r.Region}`);
      if (r.Region === ownRegion) throw invalidParam(`Invalid replica Region: ${r.Region} is the primary Region of the secret.`);
      if (seen.has(r.Region)) throw invalidParam(`Duplicate replica Region: ${r.Region}`);
      seen.add(r.Region);
      if (r.KmsKeyId !== undefined && r.KmsKeyId !== null && typeof r.KmsKeyId !== 'string') throw invalidParam('KmsKeyId must be a string.');
      return r.KmsKeyId ? { Region: r.Region, KmsKeyId: r.KmsKeyId as string } : { Region: r.Region };
    });
  }

  /** Adds or refreshes replica entries and arms their syncs. */
  private addReplicaEntries(rec: SecretRecord, regions: { Region: string; KmsKeyId?: string }[], force: boolean): void {
    for (const r of regions) {
      let entry = rec.replicas.find((e) => e.region === r.Region);
      if (!entry) {
        entry = { region: r.Region, kmsKeyId: r.KmsKeyId ?? DEFAULT_KMS_KEY, status: 'InProgress' };
        rec.replicas.push(entry);
      } else if (r.KmsKeyId !== undefined) {
        entry.kmsKeyId = r.KmsKeyId; // the one thing that may change on a replica
      }
      if (force) entry.forceOverwrite = true;
      this.replicator.start(rec, entry);
    }
  }

  // ------------------------------------------------------------------ output shapes

  /**
   * DescribeSecret / a ListSecrets entry. AWS leaves out what was never set (recorded): an empty
   * Description, RotationEnabled on a secret whose rotation was never configured, Tags on a
   * secret never tagged, the version map of a secret without versions.
   */
  private describeShape(rec: SecretRecord, listEntry: boolean): Record<string, unknown> {
    const rotationConfigured = rec.rotationEnabled || rec.rotationLambdaARN !== undefined || rec.rotationRules !== undefined;
    const out: Record<string, unknown> = {
      ARN: rec.arn,
      Name: rec.name,
      Description: rec.description === '' ? undefined : rec.description,
      KmsKeyId: rec.kmsKeyId,
      RotationEnabled: rotationConfigured ? rec.rotationEnabled : undefined,
      RotationLambdaARN: rec.rotationLambdaARN,
      RotationRules: describeRules(rec.rotationRules),
      LastRotatedDate: epoch(rec.lastRotatedDate),
      LastChangedDate: epoch(rec.lastChangedDate),
      LastAccessedDate: epoch(rec.lastAccessedDate),
      DeletedDate: epoch(rec.deletedDate),
      NextRotationDate: rec.rotationEnabled ? epoch(rec.nextRotationDate) : undefined,
      Tags: rec.tags.length > 0 || rec.tagged ? rec.tags : undefined,
      CreatedDate: epoch(rec.createdDate),
      PrimaryRegion: primaryRegionOf(rec),
    };
    if (listEntry) {
      out.SecretVersionsToStages = versionsToStages(rec);
    } else {
      out.VersionIdsToStages = versionsToStages(rec);
      if (rec.replicas.length > 0) out.ReplicationStatus = this.replicationStatus(rec);
      if (rec.crossAccountPrimary) {
        const l = rec.crossAccountPrimary;
        out.CrossAccountPrimary = { PrimarySecretARN: l.arn, ReplicationStatus: l.status, StatusMessage: l.statusMessage };
      }
      if (rec.crossAccountReplicas?.length) {
        out.CrossAccountReplicas = rec.crossAccountReplicas.map((l) => ({
          ReplicaSecretARN: l.arn,
          ReplicationRoleARN: l.roleArn,
          ReplicationStatus: l.status,
          StatusMessage: l.statusMessage,
        }));
      }
    }
    return out;
  }

  private valueShape(rec: SecretRecord, v: SecretVersion): Record<string, unknown> {
    return {
      ARN: rec.arn,
      Name: rec.name,
      VersionId: v.id,
      SecretString: v.string,
      SecretBinary: v.binary,
      VersionStages: stagesOf(v),
      CreatedDate: epoch(v.createdDate),
    };
  }

  // ------------------------------------------------------------------ operations

  private createSecret(input: Input, ctx: RequestContext): unknown {
    const store = this.storeFor(ctx.region);
    const name = reqString(input, 'Name');
    checkName(name);
    const value = readValue(input);
    const token = readToken(input) ?? randomUUID();
    const tags = readTags(input);
    const description = optString(input, 'Description');
    if (description !== undefined && description.length > 2048) throw invalidParam('Description must be at most 2048 characters.');
    const kmsKeyId = optString(input, 'KmsKeyId');
    const force = optBool(input, 'ForceOverwriteReplicaSecret') ?? false;
    const replicaRegions =
      input.AddReplicaRegions === undefined || input.AddReplicaRegions === null ? [] : this.readReplicaRegions(input.AddReplicaRegions, ctx.region);
    const crossAccountPrimaryArn = optString(input, 'CrossAccountPrimaryARN');
    if (crossAccountPrimaryArn !== undefined) {
      this.checkCrossAccountReplicaRequest(crossAccountPrimaryArn, input, ctx, value !== undefined || description !== undefined || replicaRegions.length > 0);
    }

    const existing = store.byName.get(name);
    if (existing) {
      if (existing.deletedDate !== undefined) {
        throw invalidRequest("You can't create this secret because a secret with this name is already scheduled for deletion.");
      }
      // Same token and same value: the retry of a CreateSecret that already succeeded (recorded:
      // the same answer again); the token of a version with another value: refused.
      const v = value ? findVersion(existing, token) : undefined;
      if (v && value && !existing.primaryRegion) {
        if (!sameValue(v, value)) throw tokenInUse(token, existing.arn);
        return {
          ARN: existing.arn,
          Name: existing.name,
          VersionId: v.id,
          ReplicationStatus: existing.replicas.length ? this.replicationStatus(existing) : undefined,
        };
      }
      throw err('ResourceExistsException', `The operation failed because the secret ${name} already exists.`);
    }
    if (value && kmsKeyId && isUnusableKmsKey(kmsKeyId)) {
      throw err(
        'EncryptionFailure',
        `Secrets Manager can't encrypt the protected secret text using the provided KMS key ${kmsKeyId}. Check that the KMS key is available, enabled, and not in an invalid state.`,
      );
    }
    const now = this.clock.now();
    const rec = this.newRecord(ctx.region, name, now);
    if (description !== undefined) rec.description = description;
    if (kmsKeyId !== undefined && kmsKeyId !== DEFAULT_KMS_KEY) rec.kmsKeyId = kmsKeyId;
    if (tags && tags.length > 0) {
      rec.tags = dedupeTags(tags);
      rec.tagged = true;
    }
    let versionId: string | undefined;
    if (value) versionId = this.addVersion(rec, token, value, [AWSCURRENT], now).id;
    if (crossAccountPrimaryArn !== undefined) rec.crossAccountPrimary = { arn: crossAccountPrimaryArn, status: 'Pending' };
    store.put(rec);
    if (replicaRegions.length > 0) this.addReplicaEntries(rec, replicaRegions, force);
    this.onChange();
    this.event(
      ctx,
      'CreateSecret',
      rec,
      {
        name,
        ...(replicaRegions.length ? { addReplicaRegions: replicaRegions.map((r) => ({ region: r.Region })) } : {}),
        ...(crossAccountPrimaryArn ? { crossAccountPrimaryARN: crossAccountPrimaryArn } : {}),
      },
      versionId,
    );
    return { ARN: rec.arn, Name: rec.name, VersionId: versionId, ReplicationStatus: rec.replicas.length ? this.replicationStatus(rec) : undefined };
  }

  private describeSecret(input: Input, ctx: RequestContext): unknown {
    return this.describeShape(this.lookup(ctx, input), false);
  }

  private getSecretValue(input: Input, ctx: RequestContext): unknown {
    const rec = this.lookup(ctx, input);
    this.assertNotDeleted(rec);
    const v = this.selectVersion(rec, optString(input, 'VersionId'), optString(input, 'VersionStage'));
    const day = dayOf(this.clock.now());
    rec.lastAccessedDate = day;
    v.lastAccessedDate = day;
    return this.valueShape(rec, v);
  }

  private selectVersion(rec: SecretRecord, versionId: string | undefined, stage: string | undefined): SecretVersion {
    if (versionId !== undefined) {
      const v = findVersion(rec, versionId);
      // A version without a value (the one RotateSecret creates before createSecret runs) is not found either.
      if (!v || !hasValue(v)) throw notFound(`Secrets Manager can't find the specified secret value for VersionId: ${versionId}`);
      if (stage !== undefined && !v.stages.includes(stage)) {
        throw invalidRequest('You provided a VersionStage that is not associated to the provided VersionId.');
      }
      return v;
    }
    const wanted = stage ?? AWSCURRENT;
    const v = wanted === AWSCURRENT ? currentVersion(rec) : rec.versions.find((x) => x.stages.includes(wanted));
    if (!v || !hasValue(v)) throw notFound(`Secrets Manager can't find the specified secret value for staging label: ${wanted}`);
    return v;
  }

  private batchGetSecretValue(input: Input, ctx: RequestContext): unknown {
    const store = this.storeFor(ctx.region);
    const ids = optStringArray(input, 'SecretIdList');
    const hasFilters = input.Filters !== undefined && input.Filters !== null;
    if (ids && hasFilters) throw invalidParam('Either SecretIdList or Filters must be specified, but not both.');
    if (!ids && !hasFilters) throw invalidParam('Either SecretIdList or Filters must be specified.');
    const values: Record<string, unknown>[] = [];
    const errors: Record<string, unknown>[] = [];
    const day = dayOf(this.clock.now());
    const read = (id: string, rec: SecretRecord | undefined): void => {
      try {
        if (!rec) throw notFound();
        this.assertNotDeleted(rec);
        const v = this.selectVersion(rec, undefined, AWSCURRENT);
        rec.lastAccessedDate = day;
        v.lastAccessedDate = day;
        values.push(this.valueShape(rec, v));
      } catch (e) {
        const le = e as { type?: string; message: string };
        errors.push({ SecretId: id, ErrorCode: le.type ?? 'InternalServiceError', Message: le.message });
      }
    };
    if (ids) {
      if (ids.length < 1 || ids.length > 20) throw invalidParam('SecretIdList must hold between 1 and 20 secret ids.');
      if (input.MaxResults !== undefined && input.MaxResults !== null) throw invalidParam('MaxResults can only be used with Filters.');
      for (const id of ids) read(id, store.find(id));
      return { SecretValues: values, Errors: errors };
    }
    const filters = readFilters(input.Filters);
    const max = optInt(input, 'MaxResults', 1, 20) ?? 20;
    const offset = decodeToken(optString(input, 'NextToken'));
    const matched = sortedList(store, filters, false, 'asc', 'name');
    const page = matched.slice(offset, offset + max);
    for (const rec of page) read(rec.arn, rec);
    const next = offset + max < matched.length ? encodeToken(offset + max) : undefined;
    return { SecretValues: values, Errors: errors, NextToken: next };
  }

  private listSecrets(input: Input, ctx: RequestContext): unknown {
    const store = this.storeFor(ctx.region);
    const filters = readFilters(input.Filters);
    const max = optInt(input, 'MaxResults', 1, 100) ?? 100;
    const offset = decodeToken(optString(input, 'NextToken'));
    const sortOrder = optString(input, 'SortOrder') ?? 'asc';
    if (sortOrder !== 'asc' && sortOrder !== 'desc') throw invalidParam('SortOrder must be asc or desc.');
    const sortBy = optString(input, 'SortBy') ?? 'created-date';
    if (!['created-date', 'last-accessed-date', 'last-changed-date', 'name'].includes(sortBy)) throw invalidParam(`Invalid SortBy: ${sortBy}`);
    const includeDeleted = optBool(input, 'IncludePlannedDeletion') ?? false;
    const matched = sortedList(store, filters, includeDeleted, sortOrder, sortBy);
    const page = matched.slice(offset, offset + max);
    return {
      SecretList: page.map((rec) => this.describeShape(rec, true)),
      NextToken: offset + max < matched.length ? encodeToken(offset + max) : undefined,
    };
  }

  private listSecretVersionIds(input: Input, ctx: RequestContext): unknown {
    const rec = this.lookup(ctx, input);
    const max = optInt(input, 'MaxResults', 1, 100) ?? 100;
    const offset = decodeToken(optString(input, 'NextToken'));
    const includeDeprecated = optBool(input, 'IncludeDeprecated') ?? false;
    // Oldest first, as recorded; an unlabelled (deprecated) version has no VersionStages field.
    const versions = rec.versions.filter((v) => includeDeprecated || v.stages.length > 0);
    const page = versions.slice(offset, offset + max);
    const kms = rec.kmsKeyId ?? 'DefaultEncryptionKey';
    return {
      ARN: rec.arn,
      Name: rec.name,
      Versions: page.map((v) => ({
        VersionId: v.id,
        VersionStages: v.stages.length > 0 ? stagesOf(v) : undefined,
        LastAccessedDate: epoch(v.lastAccessedDate),
        CreatedDate: epoch(v.createdDate),
        KmsKeyIds: [kms],
      })),
      NextToken: offset + max < versions.length ? encodeToken(offset + max) : undefined,
    };
  }

  private putSecretValue(input: Input, ctx: RequestContext): unknown {
    const rec = this.writable(ctx, input);
    const value = readValue(input);
    if (!value) throw invalidParam('You must provide either SecretString or SecretBinary.');
    const token = readToken(input) ?? randomUUID();
    const stages = optStringArray(input, 'VersionStages') ?? [AWSCURRENT];
    if (stages.length < 1 || stages.length > 20) throw invalidParam('VersionStages must hold between 1 and 20 labels.');
    const now = this.clock.now();
    const { version, created } = this.idempotentVersion(rec, token, value, stages, now);
    if (created) this.changed(rec, now);
    this.event(ctx, 'PutSecretValue', rec, { secretId: input.SecretId, clientRequestToken: token }, version.id);
    return { ARN: rec.arn, Name: rec.name, VersionId: version.id, VersionStages: stagesOf(version) };
  }

  private updateSecret(input: Input, ctx: RequestContext): unknown {
    const rec = this.writable(ctx, input);
    const value = readValue(input);
    const description = optString(input, 'Description');
    const kmsKeyId = optString(input, 'KmsKeyId');
    if (description !== undefined && description.length > 2048) throw invalidParam('Description must be at most 2048 characters.');
    const newKey = kmsKeyId ?? rec.kmsKeyId;
    if (value && newKey && isUnusableKmsKey(newKey)) {
      throw err('EncryptionFailure', `Secrets Manager can't encrypt the protected secret text using the provided KMS key ${newKey}.`);
    }
    const now = this.clock.now();
    let versionId: string | undefined;
    let changed = false;
    if (value) {
      const token = readToken(input) ?? randomUUID();
      const r = this.idempotentVersion(rec, token, value, [AWSCURRENT], now);
      versionId = r.version.id;
      changed ||= r.created;
    }
    if (description !== undefined && description !== rec.description) {
      rec.description = description;
      changed = true;
    }
    if (kmsKeyId !== undefined) {
      const k = kmsKeyId === DEFAULT_KMS_KEY ? undefined : kmsKeyId;
      if (k !== rec.kmsKeyId) {
        if (k === undefined) delete rec.kmsKeyId;
        else rec.kmsKeyId = k;
        changed = true;
      }
    }
    if (changed) this.changed(rec, now);
    this.event(ctx, 'UpdateSecret', rec, { secretId: input.SecretId, ...(kmsKeyId ? { kmsKeyId } : {}) }, versionId);
    return { ARN: rec.arn, Name: rec.name, VersionId: versionId };
  }

  private updateSecretVersionStage(input: Input, ctx: RequestContext): unknown {
    const rec = this.writable(ctx, input);
    const stage = reqString(input, 'VersionStage');
    if (stage.length > 256) throw invalidParam('VersionStage must be at most 256 characters.');
    const moveTo = optString(input, 'MoveToVersionId');
    const removeFrom = optString(input, 'RemoveFromVersionId');
    const holder = rec.versions.find((v) => v.stages.includes(stage));
    if (removeFrom !== undefined) {
      const from = findVersion(rec, removeFrom);
      if (!from) throw notFound(`Secrets Manager can't find the specified secret version: ${removeFrom}`);
      if (!from.stages.includes(stage)) {
        throw invalidParam(`The staging label ${stage} is not attached to version ${removeFrom}.`);
      }
    }
    if (moveTo === undefined) {
      if (removeFrom === undefined) throw invalidParam('You must specify MoveToVersionId, RemoveFromVersionId, or both.');
      if (stage === AWSCURRENT) throw invalidParam('You can only move AWSCURRENT to another version, not remove it: specify MoveToVersionId.');
    } else {
      const to = findVersion(rec, moveTo);
      if (!to) throw notFound(`Secrets Manager can't find the specified secret version: ${moveTo}`);
      if (holder && holder !== to && removeFrom === undefined) {
        throw invalidParam(
          `The parameter RemoveFromVersionId can't be empty. Staging label ${stage} is currently attached to version ${holder.id}, so you must explicitly reference that version in RemoveFromVersionId.`,
        );
      }
      if (!to.stages.includes(stage) && to.stages.length >= 20) throw err('LimitExceededException', 'A version can have at most 20 staging labels.');
    }
    const now = this.clock.now();
    if (moveTo !== undefined) {
      this.attachStages(rec, findVersion(rec, moveTo)!, [stage]);
    } else {
      const from = findVersion(rec, removeFrom!)!;
      from.stages = from.stages.filter((s) => s !== stage);
    }
    this.prune(rec);
    this.changed(rec, now);
    this.event(ctx, 'UpdateSecretVersionStage', rec, {
      secretId: input.SecretId,
      versionStage: stage,
      ...(moveTo ? { moveToVersionId: moveTo } : {}),
      ...(removeFrom ? { removeFromVersionId: removeFrom } : {}),
    });
    return { ARN: rec.arn, Name: rec.name };
  }

  private deleteSecret(input: Input, ctx: RequestContext): unknown {
    const secretId = reqString(input, 'SecretId');
    const windowDays = optInt(input, 'RecoveryWindowInDays', 7, 30);
    const force = optBool(input, 'ForceDeleteWithoutRecovery') ?? false;
    if (force && windowDays !== undefined) {
      throw invalidParam("You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays.");
    }
    const found = this.storeFor(ctx.region).find(secretId);
    if (!found && force) {
      // Recorded: force-deleting a secret that does not exist answers as if it had been deleted.
      const name = secretId.startsWith('arn:') ? nameInArnResource(secretId.slice(secretId.indexOf(':secret:') + ':secret:'.length)).name : secretId;
      const arn = secretId.startsWith('arn:') ? secretId : secretArn(ctx.region, this.accountId, name, randomSuffix());
      return { ARN: arn, Name: name, DeletionDate: epoch(this.clock.now()) };
    }
    if (!found) throw notFound();
    const rec = found;
    if (rec.crossAccountPrimary) {
      throw invalidRequest(
        `You can't delete the cross-account replica secret ${rec.name} while it replicates from ${rec.crossAccountPrimary.arn}. Call StopReplicationToReplica on it first.`,
      );
    }
    const linked = (rec.crossAccountReplicas ?? []).filter(isLiveLink);
    if (linked.length > 0) {
      throw invalidRequest(
        `You can't delete secret ${rec.name} because it is associated with the cross-account replica ${linked.map((l) => l.arn).join(', ')}. Call DisassociateCrossAccountReplica first.`,
      );
    }
    this.assertPrimary(rec);
    if (rec.replicas.length > 0) {
      // AWS answers InvalidParameterException here (public reports; moto agrees).
      throw invalidParam(
        `You can't delete secret ${rec.name} because it still has replica regions [${rec.replicas.map((e) => e.region).join(', ')}]. Remove the replica regions first with RemoveRegionsFromReplication.`,
      );
    }
    const now = this.clock.now();
    if (force) {
      this.storeFor(ctx.region).remove(rec.name);
      this.onChange();
      this.event(ctx, 'DeleteSecret', rec, { secretId: input.SecretId, forceDeleteWithoutRecovery: true });
      return { ARN: rec.arn, Name: rec.name, DeletionDate: epoch(now) };
    }
    if (rec.deletedDate !== undefined) throw invalidRequest(DELETED_MESSAGE);
    rec.deletedDate = now;
    rec.deletionDate = now + (windowDays ?? 30) * 86_400_000;
    this.changed(rec, now);
    this.event(ctx, 'DeleteSecret', rec, { secretId: input.SecretId, recoveryWindowInDays: windowDays ?? 30 });
    return { ARN: rec.arn, Name: rec.name, DeletionDate: epoch(rec.deletionDate) };
  }

  private restoreSecret(input: Input, ctx: RequestContext): unknown {
    const rec = this.lookup(ctx, input);
    this.assertPrimary(rec);
    if (rec.deletedDate !== undefined) {
      delete rec.deletedDate;
      delete rec.deletionDate;
      this.changed(rec, this.clock.now());
    }
    this.event(ctx, 'RestoreSecret', rec, { secretId: input.SecretId });
    return { ARN: rec.arn, Name: rec.name };
  }

  private tagResource(input: Input, ctx: RequestContext): unknown {
    const rec = this.writable(ctx, input);
    const tags = readTags(input);
    if (!tags || tags.length === 0) throw invalidParam('You must provide at least one tag.');
    const merged = dedupeTags([...rec.tags, ...tags]);
    if (merged.length > 50) throw invalidParam('A secret can have at most 50 tags.');
    rec.tags = merged;
    rec.tagged = true;
    this.changed(rec, this.clock.now());
    this.event(ctx, 'TagResource', rec, { secretId: input.SecretId, tagKeys: tags.map((t) => t.Key) });
    return {};
  }

  private untagResource(input: Input, ctx: RequestContext): unknown {
    const rec = this.writable(ctx, input);
    const keys = optStringArray(input, 'TagKeys');
    if (!keys) throw invalidParam('You must provide TagKeys.');
    rec.tags = rec.tags.filter((t) => !keys.includes(t.Key));
    this.changed(rec, this.clock.now());
    this.event(ctx, 'UntagResource', rec, { secretId: input.SecretId, tagKeys: keys });
    return {};
  }

  private putResourcePolicy(input: Input, ctx: RequestContext): unknown {
    const rec = this.policyWritable(ctx, input);
    const policy = reqString(input, 'ResourcePolicy');
    const parsed = parsePolicy(policy);
    if ((optBool(input, 'BlockPublicPolicy') ?? false) && isPublicPolicy(parsed)) {
      throw err('PublicPolicyException', 'The BlockPublicPolicy parameter is set to true, and the resource policy did not prevent broad access to the secret.');
    }
    rec.resourcePolicy = policy;
    this.changed(rec, this.clock.now());
    this.event(ctx, 'PutResourcePolicy', rec, { secretId: input.SecretId });
    return { ARN: rec.arn, Name: rec.name };
  }

  private getResourcePolicy(input: Input, ctx: RequestContext): unknown {
    const rec = this.lookup(ctx, input);
    return { ARN: rec.arn, Name: rec.name, ResourcePolicy: rec.resourcePolicy };
  }

  private deleteResourcePolicy(input: Input, ctx: RequestContext): unknown {
    const rec = this.policyWritable(ctx, input);
    if (rec.resourcePolicy !== undefined) {
      delete rec.resourcePolicy;
      this.changed(rec, this.clock.now());
    }
    this.event(ctx, 'DeleteResourcePolicy', rec, { secretId: input.SecretId });
    return { ARN: rec.arn, Name: rec.name };
  }

  private validateResourcePolicy(input: Input, ctx: RequestContext): unknown {
    const policy = reqString(input, 'ResourcePolicy');
    if (optString(input, 'SecretId') !== undefined) this.lookup(ctx, input);
    try {
      parsePolicy(policy);
      return { PolicyValidationPassed: true, ValidationErrors: [] };
    } catch (e) {
      return { PolicyValidationPassed: false, ValidationErrors: [{ CheckName: 'JSON_SYNTAX', ErrorMessage: (e as Error).message }] };
    }
  }

  private replicateSecretToRegions(input: Input, ctx: RequestContext): unknown {
    const rec = this.lookup(ctx, input);
    this.assertPrimary(rec);
    this.assertNotDeleted(rec);
    const regions = this.readReplicaRegions(input.AddReplicaRegions, ctx.region);
    const force = optBool(input, 'ForceOverwriteReplicaSecret') ?? false;
    this.addReplicaEntries(rec, regions, force);
    this.onChange();
    this.event(ctx, 'ReplicateSecretToRegions', rec, {
      secretId: input.SecretId,
      addReplicaRegions: regions.map((r) => ({ region: r.Region, ...(r.KmsKeyId ? { kmsKeyId: r.KmsKeyId } : {}) })),
      forceOverwriteReplicaSecret: force,
    });
    return { ARN: rec.arn, ReplicationStatus: this.replicationStatus(rec) };
  }

  private removeRegionsFromReplication(input: Input, ctx: RequestContext): unknown {
    const rec = this.lookup(ctx, input);
    this.assertPrimary(rec);
    const regions = optStringArray(input, 'RemoveReplicaRegions');
    if (!regions || regions.length === 0) throw invalidParam('RemoveReplicaRegions must list at least one Region.');
    for (const r of regions) {
      if (!rec.replicas.some((e) => e.region === r)) throw invalidParam(`The secret is not replicated to Region ${r}.`);
    }
    for (const r of regions) {
      rec.replicas = rec.replicas.filter((e) => e.region !== r);
      this.replicator.cancel(rec.region, rec.name, r);
      const store = this.stores.get(r);
      const replica = store?.byName.get(rec.name);
      // Only our own replica is deleted (never a same-name secret that blocked replication), later.
      if (store && replica && replica.primaryRegion === rec.region && replica.arn === arnInRegion(rec.arn, r)) {
        this.remover.schedule(rec, replica);
      }
    }
    this.onChange();
    this.event(ctx, 'RemoveRegionsFromReplication', rec, { secretId: input.SecretId, removeReplicaRegions: regions });
    return { ARN: rec.arn, ReplicationStatus: this.replicationStatus(rec) };
  }

  private stopReplicationToReplica(input: Input, ctx: RequestContext): unknown {
    const rec = this.lookup(ctx, input);
    if (rec.crossAccountPrimary) return this.stopCrossAccountReplication(rec, input, ctx);
    if (!rec.primaryRegion) {
      throw invalidRequest(`The secret ${rec.name} is not a replica secret: StopReplicationToReplica must be called on a replica, in its Region.`);
    }
    this.assertNotDeleted(rec);
    if (this.remover.lingering(rec)) {
      throw invalidRequest(`You can't promote the replica secret ${rec.name}: it was removed from replication and is being deleted.`);
    }
    const primaryRegion = rec.primaryRegion;
    delete rec.primaryRegion;
    rec.lastChangedDate = this.clock.now();
    // Drop the primary's entry for this Region. The primary's Region may be in outage; the lab
    // does not need it reachable (the entry is only observable once it is reachable again).
    const primary = this.stores.get(primaryRegion)?.byName.get(rec.name);
    if (primary && !primary.primaryRegion) {
      primary.replicas = primary.replicas.filter((e) => e.region !== ctx.region);
      this.replicator.cancel(primaryRegion, rec.name, ctx.region);
    }
    this.onChange();
    this.event(ctx, 'StopReplicationToReplica', rec, { secretId: input.SecretId });
    return { ARN: rec.arn };
  }

  // ------------------------------------------------------------------ cross-account replication (cross-account.ts)

  /**
   * A call naming a secret of another account by ARN. As IAM documents cross-account access: the
   * caller's identity policy (checked before, lab/iam/) AND the secret's resource policy must allow
   * the action; reading or writing a value also needs the key's policy to allow the caller
   * (kms:Decrypt / kms:GenerateDataKey), which the AWS managed key never does for another account.
   * Then the owner's Secrets Manager answers as for its own caller.
   */
  private crossAccountCall(owner: string, operation: string, input: Input, ctx: RequestContext): unknown {
    const peer = this.peer(owner);
    const secretId = input.SecretId as string;
    const rec = peer?.findOwn(ctx.region, secretId);
    if (!peer || !rec) throw notFound();
    const caller = { accountId: ctx.accountId, arn: ctx.principalArn! };
    const action = `secretsmanager:${operation}`;
    if (evaluateResourcePolicy(rec.resourcePolicy, caller, action, rec.arn) !== 'allow') {
      throw err(
        'AccessDeniedException',
        `User: ${caller.arn} is not authorized to perform: ${action} on resource: ${secretId} because no resource-based policy allows the ${action} action`,
      );
    }
    const kmsAction =
      operation === 'GetSecretValue'
        ? 'kms:Decrypt'
        : (operation === 'PutSecretValue' || operation === 'UpdateSecret') && readValue(input)
          ? 'kms:GenerateDataKey'
          : undefined;
    if (kmsAction && !this.kms.allows({ accountId: owner, region: ctx.region, keyId: rec.kmsKeyId ?? DEFAULT_KMS_KEY }, caller, kmsAction)) {
      throw err(
        'AccessDeniedException',
        `Access to KMS is not allowed: ${caller.arn} may not use ${kmsAction} with the key of ${secretId} (a secret read from another account needs a customer managed key whose policy allows it).`,
      );
    }
    return peer.handleSync(operation, input, { ...ctx, accountId: owner });
  }

  /** CreateSecret(CrossAccountPrimaryARN): what the model's documentation requires of the request. */
  private checkCrossAccountReplicaRequest(primaryArn: string, input: Input, ctx: RequestContext, hasForbidden: boolean): void {
    if (hasForbidden || input.Type !== undefined) {
      throw invalidParam(
        "You can't include SecretString, SecretBinary, Description, AddReplicaRegions, or Type when you create a cross-account replica (CrossAccountPrimaryARN).",
      );
    }
    const kmsKeyId = optString(input, 'KmsKeyId');
    if (kmsKeyId === undefined || /(^|:)alias\/aws\/secretsmanager$/.test(kmsKeyId)) {
      throw invalidParam('A cross-account replica must be encrypted with a customer managed KMS key: specify KmsKeyId (not aws/secretsmanager).');
    }
    const p = parseSecretArn(primaryArn);
    if (!p)
      throw invalidParam(
        `CrossAccountPrimaryARN must be the full ARN of a secret (arn:aws:secretsmanager:<region>:<account>:secret:<name>-XXXXXX); got ${primaryArn}.`,
      );
    if (p.partition !== 'aws' || p.region !== ctx.region) {
      throw invalidParam(
        `The primary secret must be in the same Region and partition as the replica (${ctx.region}, aws); CrossAccountPrimaryARN names ${p.region} (${p.partition}).`,
      );
    }
    if (p.accountId === ctx.accountId)
      throw invalidParam('CrossAccountPrimaryARN must name a secret in another AWS account; use AddReplicaRegions for a replica in this account.');
  }

  private associateCrossAccountReplica(input: Input, ctx: RequestContext): unknown {
    const primary = this.lookup(ctx, input);
    const replicaArn = reqString(input, 'CrossAccountReplicaARN');
    const restriction = optString(input, 'ReplicaRestriction') ?? 'SameOrg';
    if (restriction !== 'SameOrg' && restriction !== 'NoRestriction')
      throw invalidParam(`ReplicaRestriction must be SameOrg or NoRestriction; got ${restriction}.`);
    const roleArn = optString(input, 'ReplicationRoleARN');
    if (roleArn !== undefined && !new RegExp(`^arn:aws:iam::${ctx.accountId}:role/.+$`).test(roleArn)) {
      throw invalidParam(
        `ReplicationRoleARN must be the ARN of an IAM role in the primary secret's account (arn:aws:iam::${ctx.accountId}:role/NAME); got ${roleArn}.`,
      );
    }
    if (primary.primaryRegion || primary.crossAccountPrimary) {
      throw invalidRequest(
        `The secret ${primary.name} is a replica: call AssociateCrossAccountReplica on its primary secret, in the primary's account and Region.`,
      );
    }
    this.assertNotDeleted(primary);
    const r = parseSecretArn(replicaArn);
    if (!r)
      throw invalidParam(
        `CrossAccountReplicaARN must be the full ARN of the replica secret (arn:aws:secretsmanager:<region>:<account>:secret:<name>-XXXXXX); got ${replicaArn}.`,
      );
    if (r.partition !== 'aws' || r.region !== primary.region) {
      throw invalidParam(`The replica secret must be in the same Region and partition as the primary secret (${primary.region}, aws); ${replicaArn} is not.`);
    }
    if (r.accountId === ctx.accountId)
      throw invalidParam('CrossAccountReplicaARN must name a secret in another AWS account; use ReplicateSecretToRegions for replicas in this account.');
    const other = (primary.crossAccountReplicas ?? []).find((l) => isLiveLink(l) && l.arn !== replicaArn);
    if (other) {
      throw err(
        'LimitExceededException',
        `The secret ${primary.name} already has the cross-account replica ${other.arn}: a primary secret can have at most one. Disassociate it first.`,
      );
    }
    const replica = this.findAcrossAccounts(replicaArn);
    if (!replica) throw notFound(`Secrets Manager can't find the replica secret ${replicaArn}.`);
    if (replica.crossAccountPrimary?.arn !== primary.arn) {
      throw invalidRequest(
        `The secret ${replicaArn} is not a cross-account replica of ${primary.arn}: create it in its account with CreateSecret(CrossAccountPrimaryARN=${primary.arn}).`,
      );
    }
    if (replica.deletedDate !== undefined) throw invalidRequest(`The replica secret ${replicaArn} is scheduled for deletion.`);
    if (restriction === 'SameOrg' && this.organizationOf(r.accountId) !== this.organizationOf(ctx.accountId)) {
      throw invalidRequest(
        `ReplicaRestriction is SameOrg, but account ${r.accountId} is not in the organization of account ${ctx.accountId}. Use NoRestriction to replicate outside the organization.`,
      );
    }
    // Secrets Manager calls AcceptCrossAccountReplication on the replica for the caller: the replica's resource policy must allow it.
    const caller = { accountId: ctx.accountId, arn: ctx.principalArn ?? `arn:aws:iam::${ctx.accountId}:user/anonymous` };
    const accept = 'secretsmanager:AcceptCrossAccountReplication';
    if (evaluateResourcePolicy(replica.resourcePolicy, caller, accept, replicaArn) !== 'allow') {
      throw err(
        'AccessDeniedException',
        `User: ${caller.arn} is not authorized to perform: ${accept} on resource: ${replicaArn} because no resource-based policy allows the ${accept} action`,
      );
    }
    // KMS: the replicating principal (the role, else the caller) decrypts with the primary's key and encrypts with the replica's.
    const replicator = roleArn ? { accountId: ctx.accountId, arn: roleArn } : caller;
    const primaryKey = { accountId: ctx.accountId, region: primary.region, keyId: primary.kmsKeyId ?? DEFAULT_KMS_KEY };
    const replicaKey = { accountId: r.accountId, region: r.region, keyId: replica.kmsKeyId ?? DEFAULT_KMS_KEY };
    for (const [key, action] of [
      [primaryKey, 'kms:Decrypt'],
      [replicaKey, 'kms:Encrypt'],
    ] as const) {
      if (isUnusableKmsKey(key.keyId)) throw invalidRequest(`The KMS key ${key.keyId} is disabled or not found: Secrets Manager can't replicate with it.`);
      if (!this.kms.allows(key, replicator, action)) {
        throw err(
          'AccessDeniedException',
          `User: ${replicator.arn} is not authorized to perform: ${action} on resource: ${keyArnOf(key)} because no resource-based policy allows the ${action} action`,
        );
      }
    }
    const links = (primary.crossAccountReplicas ?? []).filter((l) => l.arn === replicaArn);
    const link: CrossAccountLink = links[0] ?? { arn: replicaArn, status: 'InProgress' };
    link.restriction = restriction;
    if (roleArn !== undefined) link.roleArn = roleArn;
    else delete link.roleArn;
    primary.crossAccountReplicas = [link]; // a Detached entry of another replica is replaced
    replica.crossAccountPrimary.status = 'InProgress';
    this.crossAccount.start(primary, link);
    this.onChange();
    this.event(ctx, 'AssociateCrossAccountReplica', primary, { secretId: input.SecretId, crossAccountReplicaARN: replicaArn, replicaRestriction: restriction });
    return { ARN: primary.arn, CrossAccountReplicaARN: replicaArn, ReplicationStatus: link.status };
  }

  private disassociateCrossAccountReplica(input: Input, ctx: RequestContext): unknown {
    const primary = this.lookup(ctx, input);
    const replicaArn = reqString(input, 'CrossAccountReplicaARN');
    const link = (primary.crossAccountReplicas ?? []).find((l) => l.arn === replicaArn);
    if (!link) throw invalidParam(`The secret ${primary.name} is not associated with the cross-account replica ${replicaArn}.`);
    link.status = 'Detached';
    delete link.statusMessage;
    const replica = this.findAcrossAccounts(replicaArn);
    if (replica?.crossAccountPrimary?.arn === primary.arn) {
      replica.crossAccountPrimary.status = 'Detached';
      delete replica.crossAccountPrimary.statusMessage;
    }
    this.onChange();
    this.event(ctx, 'DisassociateCrossAccountReplica', primary, { secretId: input.SecretId, crossAccountReplicaARN: replicaArn });
    return { ARN: primary.arn, CrossAccountReplicaARN: replicaArn };
  }

  /** StopReplicationToReplica on a cross-account replica: standalone in this account; the primary's entry becomes Detached. */
  private stopCrossAccountReplication(rec: SecretRecord, input: Input, ctx: RequestContext): unknown {
    this.assertNotDeleted(rec);
    const link = rec.crossAccountPrimary!;
    delete rec.crossAccountPrimary;
    delete rec.resourcePolicy; // inferred: the docs require secretsmanager:DeleteResourcePolicy for this call
    rec.lastChangedDate = this.clock.now();
    const primaryLink = this.findAcrossAccounts(link.arn)?.crossAccountReplicas?.find((l) => l.arn === rec.arn);
    if (primaryLink) {
      primaryLink.status = 'Detached';
      delete primaryLink.statusMessage;
    }
    this.onChange();
    this.event(ctx, 'StopReplicationToReplica', rec, { secretId: input.SecretId });
    return { ARN: rec.arn };
  }

  // ------------------------------------------------------------------ rotation

  /**
   * RotateSecret as AWS answers it: the function must exist in the secret's Region (else
   * AccessDeniedException, and none of the settings are kept); with RotateImmediately (the default)
   * an empty version labelled AWSPENDING is created under the ClientRequestToken and the function's
   * four steps run after the answer. With RotateImmediately=false only the settings and the next
   * window are recorded (AWS also test-invokes the function's testSecret step; the lab does not
   * model that short-lived AWSPENDING version).
   */
  private rotateSecret(input: Input, ctx: RequestContext): unknown {
    const rec = this.writable(ctx, input);
    const token = readToken(input) ?? randomUUID();
    const lambdaArn = optString(input, 'RotationLambdaARN');
    const rules = readRotationRules(input.RotationRules);
    const immediately = optBool(input, 'RotateImmediately') ?? true;
    const retried = immediately ? findVersion(rec, token) : undefined;
    if (retried) return { ARN: rec.arn, Name: rec.name, VersionId: retried.id }; // the retry of a RotateSecret that already started
    if (pendingRotation(rec)) throw invalidRequest(PREVIOUS_ROTATION_MESSAGE);
    const arn = lambdaArn ?? rec.rotationLambdaARN;
    if (arn === undefined || arn === '') throw invalidRequest('No Lambda rotation function ARN is associated with this secret.');
    const fn = this.functions.get(arn);
    if (!fn || fn.region !== ctx.region) {
      throw err(
        'AccessDeniedException',
        'Secrets Manager cannot invoke the specified Lambda function. Ensure that the function policy grants access to the principal secretsmanager.amazonaws.com.',
      );
    }
    const now = this.clock.now();
    rec.rotationLambdaARN = arn;
    if (rules !== undefined) rec.rotationRules = rules;
    rec.rotationEnabled = true;
    this.scheduleNext(rec, rec.lastRotatedDate ?? now);
    if (immediately) {
      this.addVersion(rec, token, {}, [AWSPENDING], now);
      this.rotations.start(ctx.region, rec.arn, token, fn);
    }
    this.changed(rec, now);
    this.event(ctx, 'RotateSecret', rec, { secretId: input.SecretId, rotationLambdaARN: arn, rotateImmediately: immediately }, immediately ? token : undefined);
    return { ARN: rec.arn, Name: rec.name, ...(immediately ? { VersionId: token } : {}) };
  }

  /** The next window after `base`, and the moment inside it at which the lab starts the rotation. */
  private scheduleNext(rec: SecretRecord, base: number): void {
    const schedule = rec.rotationEnabled ? parseSchedule(rec.rotationRules) : undefined;
    if (!schedule) {
      delete rec.nextRotationDate;
      delete rec.rotationStartAt;
      return;
    }
    const window = schedule.windowAfter(base);
    rec.nextRotationDate = window.end - 1000; // "on or before this date": the window's last second
    rec.rotationStartAt = startWithin(window);
  }

  private rotationSucceeded(region: string, arn: string, token: string): void {
    const rec = this.stores.get(region)?.find(arn);
    if (!rec) return;
    const now = this.clock.now();
    rec.lastRotatedDate = now;
    this.scheduleNext(rec, now);
    this.changed(rec, now);
    this.event(this.internalContext(region), 'RotationSucceeded', rec, { secretId: arn }, token);
  }

  private rotationGivenUp(region: string, arn: string, token: string, reason: string): void {
    const rec = this.stores.get(region)?.find(arn);
    if (!rec) return;
    this.event(this.internalContext(region), 'RotationFailed', rec, { secretId: arn, reason }, token);
  }

  /** A rotation the lab starts itself, when a scheduled window opens. */
  private startScheduledRotation(region: string, rec: SecretRecord, now: number): void {
    delete rec.rotationStartAt;
    // A rotation still in flight (or cut off, AWSPENDING on another version) is reattempted instead.
    if (this.rotations.inFlight(region, rec.arn) || pendingRotation(rec)) return;
    const fn = rec.rotationLambdaARN ? this.functions.get(rec.rotationLambdaARN) : undefined;
    if (!fn || fn.region !== region) {
      this.rotationGivenUp(region, rec.arn, '', `Secrets Manager cannot invoke the rotation function ${rec.rotationLambdaARN ?? '(none)'}`);
      this.scheduleNext(rec, now);
      return;
    }
    const token = newRotationToken();
    this.addVersion(rec, token, {}, [AWSPENDING], now);
    this.rotations.start(region, rec.arn, token, fn);
    this.changed(rec, now);
  }

  private cancelRotateSecret(input: Input, ctx: RequestContext): unknown {
    const rec = this.writable(ctx, input);
    rec.rotationEnabled = false;
    delete rec.nextRotationDate;
    delete rec.rotationStartAt;
    this.rotations.cancel(ctx.region, rec.arn); // labels stay where the cancelled rotation left them
    const pending = rec.versions.find((v) => v.stages.includes(AWSPENDING));
    this.changed(rec, this.clock.now());
    this.event(ctx, 'CancelRotateSecret', rec, { secretId: input.SecretId });
    return { ARN: rec.arn, Name: rec.name, VersionId: pending?.id };
  }

  /** The context of a call the lab makes itself (a rotation function, the scheduler). */
  private internalContext(region: string): RequestContext {
    return { region, accountId: this.accountId, requestId: randomUUID(), clock: this.clock };
  }

  private getRandomPassword(input: Input): unknown {
    return {
      RandomPassword: generatePassword({
        PasswordLength: optInt(input, 'PasswordLength', 1, 4096),
        ExcludeCharacters: optString(input, 'ExcludeCharacters'),
        ExcludeNumbers: optBool(input, 'ExcludeNumbers'),
        ExcludePunctuation: optBool(input, 'ExcludePunctuation'),
        ExcludeUppercase: optBool(input, 'ExcludeUppercase'),
        ExcludeLowercase: optBool(input, 'ExcludeLowercase'),
        IncludeSpace: optBool(input, 'IncludeSpace'),
        RequireEachIncludedType: optBool(input, 'RequireEachIncludedType'),
      }),
    };
  }

  // ------------------------------------------------------------------ schedules on the lab clock

  /** Scheduled rotations that are due, and recovery windows that have passed. */
  runSchedules(): void {
    this.remover.run();
    const now = this.clock.now();
    let changed = false;
    for (const [region, store] of this.stores) {
      for (const rec of [...store.all()]) {
        if (rec.primaryRegion) continue; // replicas follow their primary
        if (rec.deletionDate !== undefined && rec.deletionDate <= now) {
          store.remove(rec.name);
          changed = true;
          continue;
        }
        if (rec.rotationEnabled && rec.deletedDate === undefined && rec.rotationStartAt !== undefined && rec.rotationStartAt <= now) {
          this.startScheduledRotation(region, rec, now);
        }
      }
    }
    this.rotations.pump();
    if (changed) this.onChange();
  }
}

// ------------------------------------------------------------------ module helpers

function hasValue(v: SecretVersion): boolean {
  return v.string !== undefined || v.binary !== undefined;
}

function dedupeTags(tags: Tag[]): Tag[] {
  const byKey = new Map<string, Tag>();
  for (const t of tags) byKey.set(t.Key, { Key: t.Key, Value: t.Value });
  return [...byKey.values()];
}

function parsePolicy(policy: string): unknown {
  let parsed: unknown;
  try {
    parsed = JSON.parse(policy);
  } catch {
    throw err('MalformedPolicyDocumentException', 'The resource policy has syntax errors: it is not valid JSON.');
  }
  if (!parsed || typeof parsed !== 'object' || !('Statement' in parsed)) {
    throw err('MalformedPolicyDocumentException', 'The resource policy has syntax errors: a Statement is required.');
  }
  return parsed;
}

function isPublicPolicy(policy: unknown): boolean {
  const statements = (policy as { Statement: unknown }).Statement;
  const list = Array.isArray(statements) ? statements : [statements];
  return list.some((s) => {
    const st = s as { Effect?: string; Principal?: unknown; Condition?: unknown };
    if (st?.Effect !== 'Allow' || st.Condition) return false;
    const p = st.Principal;
    if (p === '*') return true;
    const aws = (p as { AWS?: unknown } | undefined)?.AWS;
    return aws === '*' || (Array.isArray(aws) && aws.includes('*'));
  });
}

function sortedList(store: RegionStore, filters: ReturnType<typeof readFilters>, includeDeleted: boolean, order: string, by: string): SecretRecord[] {
  const out: SecretRecord[] = [];
  for (const rec of store.all()) {
    if (!includeDeleted && rec.deletedDate !== undefined) continue;
    if (filters.length > 0 && !matchesFilters(rec, filters)) continue;
    out.push(rec);
  }
  const key = (r: SecretRecord): number | string =>
    by === 'name' ? r.name : by === 'last-changed-date' ? r.lastChangedDate : by === 'last-accessed-date' ? (r.lastAccessedDate ?? 0) : r.createdDate;
  const sign = order === 'desc' ? -1 : 1;
  out.sort((a, b) => {
    const ka = key(a);
    const kb = key(b);
    if (ka < kb) return -sign;
    if (ka > kb) return sign;
    return 0; // a stable sort: ties keep creation order (the store's), as AWS lists them
  });
  return out;
}

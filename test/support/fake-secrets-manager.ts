/**
 * An in-memory Secrets Manager of ONE Region, implementing only what the activity tests need, as plain
 * async functions: each test picks the operations its activity's narrow client type (`Pick<...>`)
 * lists, so the compiler checks that the fake covers exactly what the activity may call. Errors carry
 * the SDK's shape (`name`, `$metadata.httpStatusCode`). Every call is logged; `failNext` injects errors.
 * For activity tests in MockActivityEnvironment: the wire-level behaviour is the lab's job (test/lab).
 */
import { createHash } from 'node:crypto';
import type { SecretsManagerApi } from '../../activities/clients.js';

interface Version {
  value: { SecretString?: string; SecretBinary?: Uint8Array };
  stages: string[];
  created: Date;
}
interface Secret {
  name: string;
  arn: string;
  primaryRegion?: string;
  kmsKeyId?: string;
  description?: string;
  tags: Array<{ Key: string; Value: string }>;
  policy?: string;
  versions: Map<string, Version>;
  created: Date;
  deleted?: Date;
}

export const awsError = (name: string, message: string, status = 400) => Object.assign(new Error(message), { name, $metadata: { httpStatusCode: status } });
const notFound = () => awsError('ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
const md = { $metadata: {} };

type Input<K extends keyof SecretsManagerApi> = Parameters<SecretsManagerApi[K]>[0];

export class FakeSecretsManager {
  readonly secrets = new Map<string, Secret>();
  readonly calls: Array<{ op: string; id?: string }> = [];
  private faults: Array<{ op: string; id?: string; error: () => Error; count: number; delayMs: number; after: number }> = [];

  constructor(readonly region: string) {}

  arnOf(name: string): string {
    return `arn:aws:secretsmanager:${this.region}:123456789012:secret:${name}-${createHash('sha256').update(name).digest('hex').slice(0, 6)}`;
  }

  /** A secret with one AWSCURRENT version (a replica of `primaryRegion` when given). */
  /** Only the operations `ops` (an activity's narrow client type): calling any other one fails, as the narrow type promises. */
  only<K extends keyof this & string>(...ops: K[]): Pick<this, K> {
    return Object.fromEntries(ops.map((op) => [op, this[op]])) as Pick<this, K>;
  }

  seed(name: string, value: string, o: { primaryRegion?: string; tags?: Record<string, string>; policy?: string; previous?: string } = {}): void {
    const versions = new Map<string, Version>();
    if (o.previous !== undefined) versions.set(`${name}-v0`, { value: { SecretString: o.previous }, stages: ['AWSPREVIOUS'], created: new Date(0) });
    versions.set(`${name}-v1`, { value: { SecretString: value }, stages: ['AWSCURRENT'], created: new Date(1_000) });
    this.secrets.set(name, {
      name,
      arn: this.arnOf(name),
      ...(o.primaryRegion ? { primaryRegion: o.primaryRegion } : {}),
      tags: Object.entries(o.tags ?? {}).map(([Key, Value]) => ({ Key, Value })),
      ...(o.policy ? { policy: o.policy } : {}),
      versions,
      created: new Date(1_000),
    });
  }

  /** The next `count` calls of `op` (on `id`'s secret when given; after `after` that pass) fail with `error()`, after `delayMs`. */
  failNext(op: string, error: () => Error, count = 1, o: { id?: string; delayMs?: number; after?: number } = {}): void {
    this.faults.push({ op, id: o.id, error, count, delayMs: o.delayMs ?? 0, after: o.after ?? 0 });
  }

  callsOf(op: string, id?: string): number {
    return this.calls.filter((c) => c.op === op && (id === undefined || c.id === id)).length;
  }

  private find(id: string | undefined): Secret | undefined {
    return [...this.secrets.values()].find((s) => s.name === id || s.arn === id);
  }

  private async enter(op: string, id: string | undefined): Promise<void> {
    const name = this.find(id)?.name ?? id;
    this.calls.push({ op, id: name });
    const f = this.faults.find((x) => x.op === op && x.count > 0 && (x.id === undefined || x.id === name));
    if (!f) return;
    if (f.after > 0) {
      f.after--;
      return;
    }
    f.count--;
    if (f.delayMs) await new Promise((r) => setTimeout(r, f.delayMs));
    throw f.error();
  }

  private live(id: string | undefined): Secret {
    const s = this.find(id);
    if (!s) throw notFound();
    return s;
  }

  private stagesOf(s: Secret): Record<string, string[]> {
    return Object.fromEntries([...s.versions].filter(([, v]) => v.stages.length > 0).map(([id, v]) => [id, [...v.stages]]));
  }

  listSecrets = async (i: Input<'listSecrets'> = {}) => {
    await this.enter('ListSecrets', undefined);
    // name: any of the values, each a prefix (values OR'd, as on AWS).
    const prefixes = i.Filters?.find((f) => f.Key === 'name')?.Values ?? [''];
    // primary-region: a prefix of the secret's primary Region, as recorded on AWS (lab/secrets-manager/list-filters.ts).
    const primary = i.Filters?.find((f) => f.Key === 'primary-region')?.Values?.[0];
    const list = [...this.secrets.values()].filter(
      (s) =>
        prefixes.some((p) => s.name.startsWith(p)) &&
        (primary === undefined || (s.primaryRegion !== undefined && s.primaryRegion.startsWith(primary))) &&
        (!s.deleted || i.IncludePlannedDeletion),
    );
    return {
      ...md,
      SecretList: list.map((s) => ({
        Name: s.name,
        ARN: s.arn,
        Tags: s.tags,
        SecretVersionsToStages: this.stagesOf(s),
        CreatedDate: s.created,
        ...(s.primaryRegion ? { PrimaryRegion: s.primaryRegion } : {}),
      })),
    };
  };

  describeSecret = async (i: Input<'describeSecret'>) => {
    await this.enter('DescribeSecret', i.SecretId);
    const s = this.live(i.SecretId);
    return {
      ...md,
      Name: s.name,
      ARN: s.arn,
      Tags: s.tags.map((t) => ({ ...t })),
      VersionIdsToStages: this.stagesOf(s),
      CreatedDate: s.created,
      ...(s.kmsKeyId ? { KmsKeyId: s.kmsKeyId } : {}),
      ...(s.description !== undefined ? { Description: s.description } : {}),
      ...(s.primaryRegion ? { PrimaryRegion: s.primaryRegion } : {}),
      ...(s.deleted ? { DeletedDate: s.deleted } : {}),
    };
  };

  getSecretValue = async (i: Input<'getSecretValue'>) => {
    await this.enter('GetSecretValue', i.SecretId);
    const s = this.live(i.SecretId);
    const stage = i.VersionStage ?? (i.VersionId ? undefined : 'AWSCURRENT');
    const entry = [...s.versions].find(([id, v]) => (i.VersionId ? id === i.VersionId : true) && (stage ? v.stages.includes(stage) : true));
    if (!entry) throw awsError('ResourceNotFoundException', "Secrets Manager can't find the specified secret value.");
    return { ...md, ARN: s.arn, Name: s.name, VersionId: entry[0], VersionStages: [...entry[1].stages], CreatedDate: entry[1].created, ...entry[1].value };
  };

  stopReplicationToReplica = async (i: Input<'stopReplicationToReplica'>) => {
    await this.enter('StopReplicationToReplica', i.SecretId);
    const s = this.live(i.SecretId);
    if (!s.primaryRegion) throw awsError('InvalidParameterException', 'The secret is not a replica.');
    delete s.primaryRegion;
    return { ...md, ARN: s.arn };
  };

  createSecret = async (i: Input<'createSecret'>) => {
    await this.enter('CreateSecret', i.Name);
    if (this.find(i.Name)) throw awsError('ResourceExistsException', `The operation failed because the secret ${i.Name} already exists.`);
    const s: Secret = {
      name: i.Name!,
      arn: this.arnOf(i.Name!),
      tags: (i.Tags ?? []).map((t) => ({ Key: t.Key!, Value: t.Value! })),
      versions: new Map(),
      created: new Date(2_000),
    };
    if (i.KmsKeyId) s.kmsKeyId = i.KmsKeyId;
    if (i.Description !== undefined) s.description = i.Description;
    this.secrets.set(s.name, s);
    if (i.SecretString !== undefined || i.SecretBinary !== undefined) {
      s.versions.set(i.ClientRequestToken ?? `${s.name}-c1`, {
        value: i.SecretString !== undefined ? { SecretString: i.SecretString } : { SecretBinary: i.SecretBinary },
        stages: ['AWSCURRENT'],
        created: new Date(2_000),
      });
    }
    return { ...md, ARN: s.arn, Name: s.name };
  };

  putSecretValue = async (i: Input<'putSecretValue'>) => {
    await this.enter('PutSecretValue', i.SecretId);
    const s = this.live(i.SecretId);
    const id = i.ClientRequestToken ?? `${s.name}-p${s.versions.size}`;
    if (s.versions.has(id)) return { ...md, ARN: s.arn, VersionId: id };
    const stages = i.VersionStages ?? ['AWSCURRENT'];
    for (const st of stages) for (const v of s.versions.values()) v.stages = v.stages.filter((x) => x !== st);
    s.versions.set(id, {
      value: i.SecretString !== undefined ? { SecretString: i.SecretString } : { SecretBinary: i.SecretBinary },
      stages: [...stages],
      created: new Date(3_000),
    });
    return { ...md, ARN: s.arn, VersionId: id, VersionStages: stages };
  };

  updateSecretVersionStage = async (i: Input<'updateSecretVersionStage'>) => {
    await this.enter('UpdateSecretVersionStage', i.SecretId);
    const s = this.live(i.SecretId);
    if (i.RemoveFromVersionId) {
      const v = s.versions.get(i.RemoveFromVersionId);
      if (v) v.stages = v.stages.filter((x) => x !== i.VersionStage);
    }
    if (i.MoveToVersionId) {
      for (const v of s.versions.values()) v.stages = v.stages.filter((x) => x !== i.VersionStage);
      s.versions.get(i.MoveToVersionId)?.stages.push(i.VersionStage!);
    }
    return { ...md, ARN: s.arn, Name: s.name };
  };

  getResourcePolicy = async (i: Input<'getResourcePolicy'>) => {
    await this.enter('GetResourcePolicy', i.SecretId);
    const s = this.live(i.SecretId);
    return { ...md, ARN: s.arn, Name: s.name, ...(s.policy ? { ResourcePolicy: s.policy } : {}) };
  };

  putResourcePolicy = async (i: Input<'putResourcePolicy'>) => {
    await this.enter('PutResourcePolicy', i.SecretId);
    const s = this.live(i.SecretId);
    s.policy = i.ResourcePolicy;
    return { ...md, ARN: s.arn, Name: s.name };
  };

  deleteResourcePolicy = async (i: Input<'deleteResourcePolicy'>) => {
    await this.enter('DeleteResourcePolicy', i.SecretId);
    const s = this.live(i.SecretId);
    delete s.policy;
    return { ...md, ARN: s.arn, Name: s.name };
  };

  tagResource = async (i: Input<'tagResource'>) => {
    await this.enter('TagResource', i.SecretId);
    const s = this.live(i.SecretId);
    for (const t of i.Tags ?? []) s.tags = [...s.tags.filter((x) => x.Key !== t.Key), { Key: t.Key!, Value: t.Value! }];
    return md;
  };

  untagResource = async (i: Input<'untagResource'>) => {
    await this.enter('UntagResource', i.SecretId);
    const s = this.live(i.SecretId);
    s.tags = s.tags.filter((t) => !(i.TagKeys ?? []).includes(t.Key));
    return md;
  };

  deleteSecret = async (i: Input<'deleteSecret'>) => {
    await this.enter('DeleteSecret', i.SecretId);
    const s = this.live(i.SecretId);
    s.deleted = new Date(4_000);
    return { ...md, ARN: s.arn, Name: s.name, DeletionDate: s.deleted };
  };

  rotateSecret = async (i: Input<'rotateSecret'>) => {
    await this.enter('RotateSecret', i.SecretId);
    const s = this.live(i.SecretId);
    return { ...md, ARN: s.arn, Name: s.name };
  };
}

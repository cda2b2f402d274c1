/**
 * What IAM evaluates for one API call: the action(s), the resource of each (as AWS's Service
 * Authorization Reference defines it) and the condition keys the request carries. Pure, given a
 * lookup of existing secrets.
 *
 * Secrets Manager: the secret's ARN for every secret action, CreateSecret included (the new ARN,
 * with its 6-character suffix); a name that names no secret as `arn:...:secret:<name>` (so a
 * describe-first caller scoped to a name prefix gets ResourceNotFoundException, not AccessDenied),
 * shown in a denial as given (a recorded denial reads "on resource: cfn/atlas/profile/development").
 * `*` for ListSecrets, GetRandomPassword, BatchGetSecretValue. Keys: aws:ResourceTag/* and
 * secretsmanager:ResourceTag/* (existing secret), secretsmanager:Name (CreateSecret),
 * aws:RequestTag/* + aws:TagKeys (CreateSecret, TagResource, UntagResource), secretsmanager:SecretId,
 * secretsmanager:KmsKeyId, secretsmanager:AddReplicaRegions, secretsmanager:ForceOverwriteReplicaSecret,
 * secretsmanager:RotationLambdaARN.
 * Calls made for the caller by Secrets Manager, evaluated against the caller's policy too:
 * - KMS, when the secret (or replica) uses a customer managed key (not aws/secretsmanager):
 *   kms:Decrypt to read (GetSecretValue; ReplicateSecretToRegions reads the primary),
 *   kms:GenerateDataKey to write (CreateSecret/PutSecretValue/UpdateSecret with a value), and
 *   kms:GenerateDataKey + kms:Encrypt on each replica key; key ARN resource, kms:ViaService =
 *   secretsmanager.<region>.amazonaws.com.
 * - lambda:InvokeFunction on the rotation function RotateSecret is given.
 * Cross-account replication (the model's documented required permissions): AssociateCrossAccountReplica also
 * needs secretsmanager:GetSecretValue on the primary, secretsmanager:AcceptCrossAccountReplication on the
 * replica (in the other account; Secrets Manager calls it for the caller), kms:Decrypt on the primary's key,
 * kms:Encrypt on the replica's (a key of the replica's account), iam:PassRole for a ReplicationRoleARN;
 * StopReplicationToReplica on a cross-account replica also needs secretsmanager:DeleteResourcePolicy.
 * A secret of another account named by ARN is looked up there (its ARN, tags, key).
 * EventBridge: event-bus ARN per distinct bus (PutEvents), rule ARN (`rule/<name>`, or
 * `rule/<bus>/<name>` on a custom bus), connection/api-destination ARN by name; iam:PassRole with
 * iam:PassedToService=events.amazonaws.com for a RoleArn in PutRule/PutTargets.
 * SSM: the parameter ARN (GetParameter, one per name of GetParameters); a Secrets Manager reference
 * is then read with the caller's secretsmanager:GetSecretValue (server wiring).
 */
import type { AuthzRequest, RequestContextKeys } from './evaluate.js';

export type IamServiceName = 'secretsmanager' | 'events' | 'ssm';

/** What the lab knows of an existing secret (looked up in the caller's Region). */
export interface KnownSecret {
  arn: string;
  tags: Record<string, string>;
  kmsKeyId?: string;
  /** A cross-account replica (CreateSecret with CrossAccountPrimaryARN) not yet made standalone. */
  crossAccountReplica?: boolean;
}

export interface RequestFacts {
  region: string;
  accountId: string;
  /** The existing secret named by an id (name or ARN) in the caller's Region. */
  secret(id: string): KnownSecret | undefined;
  /** A fresh 6-character suffix for CreateSecret's prospective ARN. */
  newSuffix(): string;
}

type Input = Record<string, unknown>;
const str = (input: Input, k: string): string | undefined => (typeof input[k] === 'string' && input[k] !== '' ? (input[k] as string) : undefined);

const NO_RESOURCE_SM = new Set(['ListSecrets', 'GetRandomPassword', 'BatchGetSecretValue']);
const AWS_MANAGED_KEY = /^(alias\/aws\/secretsmanager|arn:[^:]+:kms:[^:]*:[^:]*:alias\/aws\/secretsmanager)$/;

/** A customer managed key as the ARN IAM evaluates (an alias is named as the alias's key ARN in the lab). */
function keyArn(key: string, region: string, accountId: string): string | undefined {
  if (AWS_MANAGED_KEY.test(key)) return undefined;
  if (key.startsWith('arn:')) return key;
  if (key.startsWith('alias/')) return `arn:aws:kms:${region}:${accountId}:key/${key.slice('alias/'.length)}`;
  return `arn:aws:kms:${region}:${accountId}:key/${key}`;
}

function tagContext(prefix: 'aws:ResourceTag' | 'secretsmanager:ResourceTag' | 'aws:RequestTag', tags: Record<string, string>): RequestContextKeys {
  return Object.fromEntries(Object.entries(tags).map(([k, v]) => [`${prefix}/${k}`, v]));
}

function requestTags(input: Input): Record<string, string> {
  const out: Record<string, string> = {};
  if (Array.isArray(input.Tags)) {
    for (const t of input.Tags as Array<{ Key?: unknown; Value?: unknown }>)
      if (typeof t?.Key === 'string') out[t.Key] = typeof t.Value === 'string' ? t.Value : '';
  }
  return out;
}

function kmsRequests(
  actions: string[],
  key: string | undefined,
  region: string,
  facts: RequestFacts,
  base: RequestContextKeys,
  keyAccount = facts.accountId,
): AuthzRequest[] {
  const arn = key ? keyArn(key, region, keyAccount) : undefined;
  if (!arn) return [];
  const context = { ...base, 'kms:ViaService': `secretsmanager.${region}.amazonaws.com`, 'kms:CallerAccount': facts.accountId };
  return actions.map((action) => ({ action, resource: arn, context }));
}

function secretsManagerRequests(operation: string, input: Input, facts: RequestFacts, base: RequestContextKeys): AuthzRequest[] {
  const action = `secretsmanager:${operation}`;
  if (NO_RESOURCE_SM.has(operation)) return [{ action, resource: '*', context: base }];
  const context: RequestContextKeys = { ...base };
  const extra: AuthzRequest[] = [];
  let resource: string;
  let shownAs: string | undefined;
  const hasValue = input.SecretString !== undefined || input.SecretBinary !== undefined;
  if (operation === 'CreateSecret') {
    const name = str(input, 'Name') ?? '';
    resource = `arn:aws:secretsmanager:${facts.region}:${facts.accountId}:secret:${name}-${facts.newSuffix()}`;
    context['secretsmanager:Name'] = name;
    if (hasValue) extra.push(...kmsRequests(['kms:GenerateDataKey'], str(input, 'KmsKeyId'), facts.region, facts, base));
  } else {
    const id = str(input, 'SecretId') ?? '';
    const known = id ? facts.secret(id) : undefined;
    resource = known?.arn ?? (id.startsWith('arn:') ? id : `arn:aws:secretsmanager:${facts.region}:${facts.accountId}:secret:${id}`);
    if (!known && id && !id.startsWith('arn:')) shownAs = id;
    context['secretsmanager:SecretId'] = id;
    if (known) Object.assign(context, tagContext('aws:ResourceTag', known.tags), tagContext('secretsmanager:ResourceTag', known.tags));
    const key = str(input, 'KmsKeyId') ?? known?.kmsKeyId;
    if (operation === 'GetSecretValue') extra.push(...kmsRequests(['kms:Decrypt'], key, facts.region, facts, base));
    if ((operation === 'PutSecretValue' || operation === 'UpdateSecret') && hasValue)
      extra.push(...kmsRequests(['kms:GenerateDataKey'], key, facts.region, facts, base));
    if (operation === 'ReplicateSecretToRegions') {
      extra.push(...kmsRequests(['kms:Decrypt'], known?.kmsKeyId, facts.region, facts, base));
      const replicas = Array.isArray(input.AddReplicaRegions) ? (input.AddReplicaRegions as Array<{ Region?: unknown; KmsKeyId?: unknown }>) : [];
      context['secretsmanager:AddReplicaRegions'] = replicas.map((r) => String(r?.Region ?? ''));
      for (const r of replicas) {
        if (typeof r?.Region === 'string' && typeof r.KmsKeyId === 'string')
          extra.push(...kmsRequests(['kms:GenerateDataKey', 'kms:Encrypt'], r.KmsKeyId, r.Region, facts, base));
      }
    }
    if (operation === 'RotateSecret' && str(input, 'RotationLambdaARN')) {
      context['secretsmanager:RotationLambdaARN'] = str(input, 'RotationLambdaARN')!;
      extra.push({ action: 'lambda:InvokeFunction', resource: str(input, 'RotationLambdaARN')!, context: base });
    }
    if (operation === 'UntagResource' && Array.isArray(input.TagKeys)) context['aws:TagKeys'] = (input.TagKeys as unknown[]).map(String);
    if (operation === 'AssociateCrossAccountReplica') {
      // Required permissions (the model's documentation): GetSecretValue on the primary, AcceptCrossAccountReplication
      // on the replica (Secrets Manager calls it for the caller), kms:Decrypt on the primary's key, kms:Encrypt on the
      // replica's, iam:PassRole for a ReplicationRoleARN.
      extra.push({ action: 'secretsmanager:GetSecretValue', resource, context });
      const replicaArn = str(input, 'CrossAccountReplicaARN') ?? '';
      const replica = replicaArn ? facts.secret(replicaArn) : undefined;
      extra.push({ action: 'secretsmanager:AcceptCrossAccountReplication', resource: replica?.arn ?? replicaArn, context: base });
      extra.push(...kmsRequests(['kms:Decrypt'], known?.kmsKeyId, facts.region, facts, base));
      const replicaAccount = replicaArn.split(':')[4];
      if (replica?.kmsKeyId) extra.push(...kmsRequests(['kms:Encrypt'], replica.kmsKeyId, facts.region, facts, base, replicaAccount ?? facts.accountId));
      const role = str(input, 'ReplicationRoleARN');
      if (role) extra.push({ action: 'iam:PassRole', resource: role, context: { ...base, 'iam:PassedToService': 'secretsmanager.amazonaws.com' } });
    }
    // A cross-account replica made standalone loses its resource policy: the docs require DeleteResourcePolicy too.
    if (operation === 'StopReplicationToReplica' && known?.crossAccountReplica)
      extra.push({ action: 'secretsmanager:DeleteResourcePolicy', resource, context });
  }
  if (operation === 'CreateSecret' || operation === 'TagResource') {
    const tags = requestTags(input);
    Object.assign(context, tagContext('aws:RequestTag', tags));
    if (Object.keys(tags).length) context['aws:TagKeys'] = Object.keys(tags);
  }
  if (str(input, 'KmsKeyId')) context['secretsmanager:KmsKeyId'] = str(input, 'KmsKeyId')!;
  if (typeof input.ForceOverwriteReplicaSecret === 'boolean') context['secretsmanager:ForceOverwriteReplicaSecret'] = String(input.ForceOverwriteReplicaSecret);
  return [{ action, resource, context, ...(shownAs ? { shownAs } : {}) }, ...extra];
}

function eventsRequests(operation: string, input: Input, facts: RequestFacts, base: RequestContextKeys): AuthzRequest[] {
  const action = `events:${operation}`;
  const arn = (rest: string): string => `arn:aws:events:${facts.region}:${facts.accountId}:${rest}`;
  const busName = (v: unknown): string => {
    const s = typeof v === 'string' && v !== '' ? v : 'default';
    return s.startsWith('arn:') ? s.slice(s.indexOf(':event-bus/') + ':event-bus/'.length) : s;
  };
  const passRole = (roleArn: string | undefined): AuthzRequest[] =>
    roleArn ? [{ action: 'iam:PassRole', resource: roleArn, context: { ...base, 'iam:PassedToService': 'events.amazonaws.com' } }] : [];
  if (operation === 'PutEvents') {
    const entries = Array.isArray(input.Entries) ? (input.Entries as Array<{ EventBusName?: unknown }>) : [];
    const buses = [...new Set(entries.map((e) => busName(e?.EventBusName)))];
    return (buses.length ? buses : ['default']).map((b) => ({ action, resource: arn(`event-bus/${b}`), context: base }));
  }
  const rule = str(input, 'Rule') ?? (/Rule$/.test(operation) ? str(input, 'Name') : undefined);
  if (rule && !/^ListRule/.test(operation)) {
    const bus = busName(input.EventBusName);
    const resource = arn(bus === 'default' ? `rule/${rule}` : `rule/${bus}/${rule}`);
    const roles =
      operation === 'PutTargets' && Array.isArray(input.Targets)
        ? (input.Targets as Array<{ RoleArn?: unknown }>).flatMap((t) => passRole(typeof t?.RoleArn === 'string' ? t.RoleArn : undefined))
        : operation === 'PutRule'
          ? passRole(str(input, 'RoleArn'))
          : [];
    return [{ action, resource, context: base }, ...roles];
  }
  const name = str(input, 'Name');
  if (name && /Connection$/.test(operation)) return [{ action, resource: arn(`connection/${name}`), context: base }];
  if (name && /ApiDestination$/.test(operation)) return [{ action, resource: arn(`api-destination/${name}`), context: base }];
  if (name && /EventBus$/.test(operation)) return [{ action, resource: arn(`event-bus/${name}`), context: base }];
  if (name && /Archive$/.test(operation)) return [{ action, resource: arn(`archive/${name}`), context: base }];
  return [{ action, resource: '*', context: base }];
}

function ssmRequests(operation: string, input: Input, facts: RequestFacts, base: RequestContextKeys): AuthzRequest[] {
  const action = `ssm:${operation}`;
  const param = (n: string): string => `arn:aws:ssm:${facts.region}:${facts.accountId}:parameter${n.startsWith('/') ? '' : '/'}${n}`;
  const names = Array.isArray(input.Names)
    ? (input.Names as unknown[]).filter((n): n is string => typeof n === 'string')
    : str(input, 'Name')
      ? [str(input, 'Name')!]
      : [];
  return names.length ? names.map((n) => ({ action, resource: param(n), context: base })) : [{ action, resource: '*', context: base }];
}

/** The authorization requests of one API call, the service's own action first. */
export function authzRequestsOf(service: IamServiceName, operation: string, input: Input, facts: RequestFacts): AuthzRequest[] {
  const base: RequestContextKeys = { 'aws:RequestedRegion': facts.region, 'aws:PrincipalAccount': facts.accountId };
  if (service === 'secretsmanager') return secretsManagerRequests(operation, input, facts, base);
  if (service === 'events') return eventsRequests(operation, input, facts, base);
  return ssmRequests(operation, input, facts, base);
}

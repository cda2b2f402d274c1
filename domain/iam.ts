/**
 * Least privilege, as one table: every AWS action each role calls, why, and on which resources.
 * `secrets-dr iam-policy` prints the policies made from it, and a unit test fails when the narrow
 * client interfaces (activities/clients.ts) name an operation this table does not list. Pure.
 *
 * Roles:
 * - worker: runs every AWS call (activities), in every plan Region.
 * - receiver: the EventBridge entry point; talks to Temporal only, and reads its Temporal
 *   credentials from Secrets Manager.
 * - operator: the person running the CLI. The CLI itself calls no AWS API (every call runs in a
 *   worker); the operator policy is read-only inspection for the runbook's `aws` commands.
 */
import type { Plan } from './plan.js';
import { planRegions } from './plan.js';

export const IAM_ROLES = ['worker', 'receiver', 'operator'] as const;
type IamRole = (typeof IAM_ROLES)[number];

/** What a grant may touch; each scope becomes resources (and conditions) for a given plan. */
type IamScope =
  | 'any' // the action takes no resource (ListSecrets, GetRandomPassword)
  | 'plan-secrets' // the plan's selectors: name prefixes, exact names, tag conditions
  | 'tool-secrets' // secrets-dr/<plan>/*, secrets-dr-backup/<plan>/*, secrets-dr-drill/<plan>/*
  | 'connection-secrets' // the secrets EventBridge keeps for an API destination's connection
  | 'temporal-credentials' // secrets-dr/<plan>/temporal* (API key or mTLS material)
  | 'kms-via-secretsmanager' // any key, only when Secrets Manager calls KMS on our behalf
  | 'event-bus' // PutEvents on the plan's bus
  | 'event-rules' // rules/targets named secrets-dr-*
  | 'event-connections' // connections and API destinations named secrets-dr-*
  | 'events-role' // iam:PassRole of the role EventBridge assumes to call the API destination
  | 'rotation-functions' // the plan's rotation Lambdas
  | 'parameter-references' // Parameter Store's read-only references to Secrets Manager secrets
  | 'recovery-replicas' // cross-account replicas in the plan's recovery accounts (Secrets Manager acts for the caller)
  | 'recovery-keys'; // KMS keys of the recovery accounts, only through Secrets Manager

interface IamGrant {
  action: string;
  scopes: readonly IamScope[];
  why: string;
  /** Account DR only: written into a policy only when it names recovery accounts (PolicyOptions.recoveryAccountIds). */
  accountDr?: boolean;
}

const SM = 'secretsmanager';
const g = (action: string, scopes: IamScope[], why: string): IamGrant => ({ action, scopes, why });
/** A grant of account DR (cross-account replication): only in policies for plans with recovery accounts. */
const dr = (action: string, scopes: IamScope[], why: string): IamGrant => ({ action, scopes, why, accountDr: true });

/*
 * Not granted to the worker, on purpose (test/integration/iam-actions.test.ts proves every grant above):
 * - secretsmanager:ListSecretVersionIds: lineage, backups and restore read DescribeSecret's
 *   VersionIdsToStages (every labelled version); the worker never lists versions.
 * - secretsmanager:RestoreSecret: a restore that finds the original scheduled for deletion stops and
 *   says so (activities/restore.activities.ts) rather than undoing someone's deletion by itself.
 * - kms:DescribeKey: Secrets Manager's API calls KMS for GenerateDataKey, Decrypt and Encrypt on the
 *   caller's behalf; DescribeKey is what its console calls to list keys (AWS Secrets Manager User
 *   Guide, "Secret encryption and decryption", permissions for the KMS key).
 */
export const IAM_TABLE: Readonly<Record<IamRole, readonly IamGrant[]>> = {
  worker: [
    g(`${SM}:ListSecrets`, ['any'], 'inventory, status and monitor cycles: ⌈N/100⌉ pages per Region'),
    g(`${SM}:DescribeSecret`, ['plan-secrets', 'tool-secrets'], 'describe before every write; verify after'),
    g(`${SM}:GetSecretValue`, ['plan-secrets', 'tool-secrets'], 'HMAC parity, copy-back, backups (values stay inside activities)'),
    g(`${SM}:CreateSecret`, ['tool-secrets', 'plan-secrets'], 'backups, lineage records, drill canaries, HMAC key; restore of a deleted original'),
    g(`${SM}:PutSecretValue`, ['plan-secrets', 'tool-secrets'], 'failback copy-back, adopt, restore, drill canary writes'),
    g(`${SM}:UpdateSecret`, ['plan-secrets', 'tool-secrets'], 'restore of description and key'),
    g(`${SM}:UpdateSecretVersionStage`, ['plan-secrets', 'tool-secrets'], 'labels on restore and copy-back'),
    g(`${SM}:DeleteSecret`, ['tool-secrets'], 'drill clean-up, backup pruning (never a plan secret)'),
    g(`${SM}:TagResource`, ['plan-secrets', 'tool-secrets'], 'fence, promotion and origin tags'),
    g(`${SM}:UntagResource`, ['plan-secrets', 'tool-secrets'], 'lift the fence after failback'),
    g(`${SM}:GetResourcePolicy`, ['plan-secrets', 'tool-secrets'], 'fence (deny statement) and backups carry the policy'),
    g(`${SM}:PutResourcePolicy`, ['plan-secrets', 'tool-secrets'], 'fence the old primary; protect backups like the original'),
    g(`${SM}:DeleteResourcePolicy`, ['plan-secrets', 'tool-secrets'], 'lift a fence that was the whole policy'),
    g(`${SM}:ReplicateSecretToRegions`, ['plan-secrets', 'tool-secrets'], 'setup, failback re-replication, HMAC key to every Region'),
    g(`${SM}:RemoveRegionsFromReplication`, ['plan-secrets', 'tool-secrets'], 'failback --reverse, drill clean-up'),
    g(`${SM}:StopReplicationToReplica`, ['plan-secrets', 'tool-secrets'], 'promotion in the DR Region (failover, drills)'),
    g(`${SM}:RotateSecret`, ['plan-secrets'], 're-home rotation onto the new primary Region'),
    g(`${SM}:CancelRotateSecret`, ['plan-secrets'], 'stop rotation on the fenced old primary'),
    dr(`${SM}:AssociateCrossAccountReplica`, ['plan-secrets'], 'account DR setup and repair: link a primary to its replica in a recovery account'),
    dr(`${SM}:DisassociateCrossAccountReplica`, ['plan-secrets'], 'account failover while the primary account answers; failback re-pointing'),
    dr(
      `${SM}:AcceptCrossAccountReplication`,
      ['recovery-replicas'],
      "AssociateCrossAccountReplica calls it on the replica for the caller (the replica's resource policy must allow it too)",
    ),
    dr('kms:Encrypt', ['recovery-keys'], "cross-account replication encrypts with the replica's key in the recovery account"),
    g(
      'ssm:GetParameter',
      ['parameter-references'],
      'read-path checks (status --read-paths, monitor, drills): read secrets as applications do, through /aws/reference/secretsmanager/<name>',
    ),
    g('lambda:InvokeFunction', ['rotation-functions'], 'RotateSecret needs it on the rotation function it configures'),
    g('kms:Decrypt', ['kms-via-secretsmanager'], 'read values encrypted with a customer managed key'),
    g('kms:GenerateDataKey', ['kms-via-secretsmanager'], 'write values and replicas under a customer managed key'),
    g('kms:Encrypt', ['kms-via-secretsmanager'], 'replicate into a Region with a customer managed key'),
    g('events:PutEvents', ['event-bus'], 'Replication/Failover/Health events'),
    g('events:PutRule', ['event-rules'], 'events install: alarm and AWS Health rules'),
    g('events:DescribeRule', ['event-rules'], 'events install is describe-first'),
    g('events:DeleteRule', ['event-rules'], 'events uninstall'),
    g('events:PutTargets', ['event-rules'], 'events install: the API destination target'),
    g('events:RemoveTargets', ['event-rules'], 'events uninstall'),
    g('events:ListTargetsByRule', ['event-rules'], 'events install is describe-first'),
    g('events:CreateConnection', ['event-connections'], 'the API-key connection of the receiver'),
    g('events:DescribeConnection', ['event-connections'], 'describe-first'),
    g('events:UpdateConnection', ['event-connections'], 'rotate the receiver API key'),
    g('events:DeleteConnection', ['event-connections'], 'events uninstall'),
    g('events:CreateApiDestination', ['event-connections'], 'the receiver endpoint'),
    g('events:DescribeApiDestination', ['event-connections'], 'describe-first'),
    g('events:UpdateApiDestination', ['event-connections'], 'a moved receiver'),
    g('events:DeleteApiDestination', ['event-connections'], 'events uninstall'),
    g(`${SM}:CreateSecret`, ['connection-secrets'], 'EventBridge stores the connection key as a secret under the caller'),
    g(`${SM}:PutSecretValue`, ['connection-secrets'], 'EventBridge updates the connection secret'),
    g(`${SM}:DescribeSecret`, ['connection-secrets'], 'EventBridge reads the connection secret'),
    g(`${SM}:DeleteSecret`, ['connection-secrets'], 'EventBridge deletes the connection secret'),
    g('iam:PassRole', ['events-role'], 'the rule target assumes this role to call the API destination'),
  ],
  receiver: [
    g(`${SM}:GetSecretValue`, ['temporal-credentials'], 'Temporal Cloud API key or mTLS material at cold start'),
    g('kms:Decrypt', ['kms-via-secretsmanager'], 'the credentials secret may use a customer managed key'),
  ],
  operator: [
    g(`${SM}:ListSecrets`, ['any'], 'runbook inspection with the AWS CLI (secrets-dr itself calls AWS only from workers)'),
    g(`${SM}:DescribeSecret`, ['plan-secrets', 'tool-secrets'], 'runbook inspection: replication status, tags, labels'),
    g(`${SM}:ListSecretVersionIds`, ['plan-secrets', 'tool-secrets'], 'runbook inspection: versions and labels'),
    g(`${SM}:GetResourcePolicy`, ['plan-secrets', 'tool-secrets'], 'runbook inspection: the fence'),
  ],
};

/** The IAM action of an SDK client method: `secretsmanager` + `describeSecret` → `secretsmanager:DescribeSecret`. */
export function iamActionOf(service: 'secretsmanager' | 'events' | 'ssm', method: string): string {
  return `${service}:${method.charAt(0).toUpperCase()}${method.slice(1)}`;
}

interface PolicyStatement {
  Sid: string;
  Effect: 'Allow';
  Action: string[];
  Resource: string[];
  Condition?: Record<string, Record<string, string | string[]>>;
}
export interface PolicyDocument {
  Version: '2012-10-17';
  Statement: PolicyStatement[];
}

interface PolicyOptions {
  /** Default `*`: the policy then fits any account; give it to pin resources to one. */
  accountId?: string;
  partition?: string;
  /** Name (or name prefix with `*`) of the role EventBridge assumes; default `secrets-dr-*`. */
  eventsRoleName?: string;
  /** The plan's recovery accounts (account DR); without any, no cross-account statement is written. */
  recoveryAccountIds?: readonly string[];
}

/** Secret ARNs of a name prefix: names get AWS's 6-character suffix, so a prefix ends in `*`. */
function secretArns(p: string, regions: string[], account: string, namePattern: string): string[] {
  return regions.map((r) => `arn:${p}:secretsmanager:${r}:${account}:secret:${namePattern}`);
}

/** The policy document of a role for a plan, from IAM_TABLE. Grants with the same scope share a statement. */
export function policyFor(role: IamRole, plan: Plan, opts: PolicyOptions = {}): PolicyDocument {
  const p = opts.partition ?? 'aws';
  const account = opts.accountId ?? '*';
  const regions = planRegions(plan);
  const byScope = new Map<IamScope, string[]>();
  const accountDr = (opts.recoveryAccountIds ?? []).length > 0;
  for (const grant of IAM_TABLE[role]) {
    if (grant.accountDr && !accountDr) continue;
    for (const scope of grant.scopes) {
      const actions = byScope.get(scope) ?? [];
      if (!actions.includes(grant.action)) actions.push(grant.action);
      byScope.set(scope, actions);
    }
  }
  const statements: PolicyStatement[] = [];
  const add = (sid: string, Action: string[], Resource: string[], Condition?: PolicyStatement['Condition']) =>
    statements.push({ Sid: sid, Effect: 'Allow', Action: [...Action].sort(), Resource, ...(Condition ? { Condition } : {}) });
  for (const [scope, actions] of byScope) {
    switch (scope) {
      case 'any':
        add('Inventory', actions, ['*']);
        break;
      case 'plan-secrets': {
        const arns: string[] = [];
        for (const s of plan.secrets.include) {
          if ('prefix' in s) arns.push(...secretArns(p, regions, account, `${s.prefix}*`));
          else if ('name' in s) arns.push(...secretArns(p, regions, account, `${s.name}-??????`));
        }
        if (arns.length) add('PlanSecretsByName', actions, arns);
        plan.secrets.include.forEach((s, i) => {
          if (!('tag' in s)) return;
          // Tag selectors cannot be written as ARNs: allow any secret of the plan's Regions that carries the tag.
          const cond: PolicyStatement['Condition'] =
            s.tag.value === undefined
              ? { Null: { [`aws:ResourceTag/${s.tag.key}`]: 'false' } }
              : { StringEquals: { [`aws:ResourceTag/${s.tag.key}`]: s.tag.value } };
          add(`PlanSecretsByTag${i}`, actions, secretArns(p, regions, account, '*'), cond);
        });
        break;
      }
      case 'tool-secrets':
        add(
          'ToolSecrets',
          actions,
          ['secrets-dr', 'secrets-dr-backup', 'secrets-dr-drill'].flatMap((root) => secretArns(p, regions, account, `${root}/${plan.name}/*`)),
        );
        break;
      case 'connection-secrets':
        add('EventBridgeConnectionSecrets', actions, secretArns(p, regions, account, 'events!connection/secrets-dr-*'));
        break;
      case 'temporal-credentials':
        add('TemporalCredentials', actions, secretArns(p, regions, account, `secrets-dr/${plan.name}/temporal*`));
        break;
      case 'kms-via-secretsmanager':
        add('KmsThroughSecretsManager', actions, [`arn:${p}:kms:*:${account}:key/*`], {
          StringEquals: { 'kms:ViaService': regions.map((r) => `secretsmanager.${r}.amazonaws.com`) },
        });
        break;
      case 'event-bus':
        add(
          'PublishEvents',
          actions,
          regions.map((r) => `arn:${p}:events:${r}:${account}:event-bus/${plan.events.bus}`),
        );
        break;
      case 'event-rules':
        add(
          'RecoveryRules',
          actions,
          regions.map((r) => `arn:${p}:events:${r}:${account}:rule/secrets-dr-*`),
        );
        break;
      case 'event-connections':
        add(
          'ReceiverDestination',
          actions,
          regions.flatMap((r) => [`arn:${p}:events:${r}:${account}:connection/secrets-dr-*`, `arn:${p}:events:${r}:${account}:api-destination/secrets-dr-*`]),
        );
        break;
      case 'events-role':
        add('PassEventsRole', actions, [`arn:${p}:iam::${account}:role/${opts.eventsRoleName ?? 'secrets-dr-*'}`], {
          StringEquals: { 'iam:PassedToService': 'events.amazonaws.com' },
        });
        break;
      case 'parameter-references':
        // Parameter Store answers these from Secrets Manager (GetSecretValue, granted above on the same secrets).
        add(
          'ParameterStoreReferences',
          actions,
          regions.map((r) => `arn:${p}:ssm:${r}:${account}:parameter/aws/reference/secretsmanager/*`),
        );
        break;
      case 'recovery-replicas': {
        const ids = opts.recoveryAccountIds ?? [];
        if (ids.length)
          add(
            'CrossAccountReplicas',
            actions,
            ids.flatMap((id) => secretArns(p, regions, id, '*')),
          );
        break;
      }
      case 'recovery-keys': {
        const ids = opts.recoveryAccountIds ?? [];
        if (ids.length) {
          add(
            'RecoveryAccountKeysThroughSecretsManager',
            actions,
            ids.map((id) => `arn:${p}:kms:*:${id}:key/*`),
            { StringEquals: { 'kms:ViaService': regions.map((r) => `secretsmanager.${r}.amazonaws.com`) } },
          );
        }
        break;
      }
      case 'rotation-functions': {
        const fns = Object.values(plan.rotation);
        if (fns.length) add('RotationFunctions', actions, fns);
        break;
      }
    }
  }
  return { Version: '2012-10-17', Statement: statements };
}

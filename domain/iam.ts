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
 * - recovery: the role secrets-dr assumes in each recovery account (account DR; plan
 *   `recoveryAccounts[].roleArn`), in the primary Region only; `trustPolicyFor` is its trust policy.
 */
import type { Plan } from './plan.js';
import { planRegions } from './plan.js';

export const IAM_ROLES = ['worker', 'receiver', 'operator', 'recovery'] as const;
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
  | 'recovery-roles' // sts:AssumeRole of the plan's recovery-account roles (account DR)
  | 'recovery-replicas' // the plan's secrets in each recovery account (Secrets Manager acts there for the caller)
  | 'recovery-keys' // the recovery accounts' KMS keys, only through Secrets Manager
  | 'account-dr-plan-secrets' // the plan's secrets, only when the plan has recoveryAccounts (cross-account links)
  | 'account-drill-canaries'; // secrets-dr-drill/<plan>/account/* in the primary Region: account drills' canaries (worker: its account; recovery role: its own)

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
    g(`${SM}:TagResource`, ['plan-secrets', 'tool-secrets'], 'fence (Region or account failover), promotion and origin tags'),
    g(`${SM}:UntagResource`, ['plan-secrets', 'tool-secrets'], 'lift the fence after failback (Region or account)'),
    g(`${SM}:GetResourcePolicy`, ['plan-secrets', 'tool-secrets'], 'fence (deny statement) and backups carry the policy'),
    g(`${SM}:PutResourcePolicy`, ['plan-secrets', 'tool-secrets'], 'fence the old primary; protect backups like the original'),
    g(`${SM}:DeleteResourcePolicy`, ['plan-secrets', 'tool-secrets'], 'lift a fence that was the whole policy'),
    g(`${SM}:ReplicateSecretToRegions`, ['plan-secrets', 'tool-secrets'], 'setup, failback re-replication, HMAC key to every Region'),
    g(`${SM}:RemoveRegionsFromReplication`, ['plan-secrets', 'tool-secrets'], 'failback --reverse, drill clean-up'),
    g(`${SM}:StopReplicationToReplica`, ['plan-secrets', 'tool-secrets'], 'promotion in the DR Region (failover, drills)'),
    g(`${SM}:RotateSecret`, ['plan-secrets'], 're-home rotation onto the new primary Region'),
    g(`${SM}:CancelRotateSecret`, ['plan-secrets'], 'stop rotation on the fenced old primary'),
    g(
      'ssm:GetParameter',
      ['parameter-references'],
      'read-path checks (status --read-paths, monitor, drills): read secrets as applications do, through /aws/reference/secretsmanager/<name>',
    ),
    dr(
      `${SM}:AssociateCrossAccountReplica`,
      ['account-dr-plan-secrets'],
      'account setup and failback: link the recovery account replica (AWS also checks GetSecretValue here and kms:Decrypt on the primary key)',
    ),
    dr(`${SM}:DisassociateCrossAccountReplica`, ['account-dr-plan-secrets'], 'account failover while the primary account answers: cut the link first'),
    dr(`${SM}:AssociateCrossAccountReplica`, ['account-drill-canaries'], 'account drills: link each canary to its replica in the recovery account'),
    dr(`${SM}:DisassociateCrossAccountReplica`, ['account-drill-canaries'], 'account drills: promote (and clean up) the canary replicas'),
    dr(
      `${SM}:AcceptCrossAccountReplication`,
      ['recovery-replicas'],
      "AssociateCrossAccountReplica calls it on the replica for the caller (the replica's resource policy allows it too)",
    ),
    dr('kms:Encrypt', ['recovery-keys'], "cross-account replication encrypts with the replica's key in the recovery account"),
    dr('sts:AssumeRole', ['recovery-roles'], 'reach each recovery account only through its role (with its ExternalId), never with these credentials'),
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
  // The role in a recovery account (its Region: the plan's primary Region; its account: the recovery account).
  recovery: [
    g(`${SM}:ListSecrets`, ['any'], 'account failover/failback: the plan secrets the recovery account holds'),
    g(`${SM}:DescribeSecret`, ['plan-secrets', 'tool-secrets'], 'CrossAccountPrimary status; describe before every write'),
    g(`${SM}:GetSecretValue`, ['plan-secrets', 'tool-secrets'], 'failback: compare and copy back (values stay inside activities); backups'),
    g(`${SM}:CreateSecret`, ['plan-secrets', 'tool-secrets'], 'the cross-account replica (CrossAccountPrimaryARN); backups'),
    g(`${SM}:GetResourcePolicy`, ['plan-secrets', 'tool-secrets'], 'the replica lets the primary account replicate into it; backups carry the policy'),
    g(
      `${SM}:PutResourcePolicy`,
      ['plan-secrets', 'tool-secrets'],
      'allow the primary account secretsmanager:AcceptCrossAccountReplication on the replica; account failback fences the promoted copy (deny statement) before it reads it',
    ),
    g(
      `${SM}:DeleteResourcePolicy`,
      ['plan-secrets'],
      "StopReplicationToReplica on a cross-account replica requires it (promotion); lift account failback's fence when it leaves the copy in place",
    ),
    g(`${SM}:StopReplicationToReplica`, ['plan-secrets'], 'account failover: promote the replica in the recovery account'),
    g(`${SM}:StopReplicationToReplica`, ['account-drill-canaries'], 'account drills: promote the canary replica (and detach it before its clean-up)'),
    g(`${SM}:DeleteResourcePolicy`, ['account-drill-canaries'], 'StopReplicationToReplica on a canary replica requires it'),
    g(`${SM}:DeleteSecret`, ['account-drill-canaries'], 'account drill clean-up (canaries only, never a plan secret or a backup)'),
    g(`${SM}:TagResource`, ['plan-secrets', 'tool-secrets'], 'promotion tags (by which run, at which version); backup origin tags'),
    g(`${SM}:DeleteSecret`, ['plan-secrets'], 'failback and setup conflicts: remove a standalone copy, only after its backup exists'),
    g(`${SM}:PutSecretValue`, ['tool-secrets'], 'backups'),
    g(`${SM}:UpdateSecretVersionStage`, ['tool-secrets'], 'backups keep every label'),
    g('kms:Decrypt', ['kms-via-secretsmanager'], 'read the replica (failback, backups) under the recovery key'),
    g('kms:GenerateDataKey', ['kms-via-secretsmanager'], 'backups under the recovery key'),
    g('kms:Encrypt', ['kms-via-secretsmanager'], 'backups under the recovery key'),
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
  // A recovery account's replicas live in the primary Region only.
  const regions = role === 'recovery' ? [plan.primaryRegion] : planRegions(plan);
  const byScope = new Map<IamScope, string[]>();
  // Account-DR grants only for a plan with recovery accounts (or when the caller names some).
  const recoveryIds = [...new Set([...plan.recoveryAccounts.map((a) => a.accountId), ...(opts.recoveryAccountIds ?? [])])];
  const accountDr = recoveryIds.length > 0;
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
          else if ('name' in s) {
            arns.push(...secretArns(p, regions, account, `${s.name}-??????`));
            // The recovery role describes names that do not exist there yet (setup): IAM then sees the name without AWS's suffix.
            if (role === 'recovery') arns.push(...secretArns(p, regions, account, s.name));
          }
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
      case 'account-dr-plan-secrets': {
        if (!accountDr) break; // no account DR: no cross-account grant at all
        const arns = plan.secrets.include.flatMap((s) =>
          'prefix' in s
            ? secretArns(p, [plan.primaryRegion], account, `${s.prefix}*`)
            : 'name' in s
              ? secretArns(p, [plan.primaryRegion], account, `${s.name}-??????`)
              : [],
        );
        // Tag selectors: any secret of the primary Region (the link is checked against the plan by the activities).
        if (plan.secrets.include.some((s) => 'tag' in s)) arns.push(...secretArns(p, [plan.primaryRegion], account, '*'));
        add('CrossAccountReplication', actions, [...new Set(arns)]);
        break;
      }
      case 'account-drill-canaries':
        if (recoveryIds.length) add('AccountDrillCanaries', actions, secretArns(p, [plan.primaryRegion], account, `secrets-dr-drill/${plan.name}/account/*`));
        break;
      case 'recovery-replicas': {
        // The plan's secrets there, and the account drills' canary replicas.
        const canaries = recoveryIds.flatMap((id) => secretArns(p, [plan.primaryRegion], id, `secrets-dr-drill/${plan.name}/account/*`));
        const arns = recoveryIds.flatMap((id) =>
          plan.secrets.include.flatMap((s) =>
            'prefix' in s
              ? secretArns(p, [plan.primaryRegion], id, `${s.prefix}*`)
              : 'name' in s
                ? secretArns(p, [plan.primaryRegion], id, `${s.name}-??????`)
                : secretArns(p, [plan.primaryRegion], id, '*'),
          ),
        );
        // A tag selector cannot be an ARN: the whole account's secrets of the primary Region, and nothing narrower beside it.
        const wide = arns.filter((a) => a.endsWith(':secret:*'));
        if (arns.length) add('RecoveryAccountReplicas', actions, [...new Set(wide.length ? wide : [...arns, ...canaries])]);
        break;
      }
      case 'recovery-keys':
        if (recoveryIds.length)
          add(
            'RecoveryKeysThroughSecretsManager',
            actions,
            recoveryIds.map((id) => `arn:${p}:kms:${plan.primaryRegion}:${id}:key/*`),
            { StringEquals: { 'kms:ViaService': [`secretsmanager.${plan.primaryRegion}.amazonaws.com`] } },
          );
        break;
      case 'recovery-roles':
        if (plan.recoveryAccounts.length)
          add(
            'AssumeRecoveryRoles',
            actions,
            plan.recoveryAccounts.map((a) => a.roleArn),
          );
        break;
      case 'rotation-functions': {
        const fns = Object.values(plan.rotation);
        if (fns.length) add('RotationFunctions', actions, fns);
        break;
      }
    }
  }
  return { Version: '2012-10-17', Statement: statements };
}

/**
 * The trust policy of a recovery account's role: the worker's principal (its role ARN, else the
 * primary account) may assume it, only with the plan's ExternalId when one is set.
 */
interface TrustPolicyDocument {
  Version: '2012-10-17';
  Statement: Array<{ Sid: string; Effect: 'Allow'; Principal: { AWS: string }; Action: string[]; Condition?: Record<string, Record<string, string>> }>;
}

export function trustPolicyFor(
  plan: Plan,
  accountId: string,
  opts: { principalArn?: string; primaryAccountId?: string; partition?: string } = {},
): TrustPolicyDocument | { problem: string } {
  const a = plan.recoveryAccounts.find((r) => r.accountId === accountId);
  if (!a) return { problem: `account ${accountId} is not in recoveryAccounts of plan ${plan.name}` };
  const primary = opts.primaryAccountId ?? plan.primaryAccountId;
  const principal = opts.principalArn ?? (primary ? `arn:${opts.partition ?? 'aws'}:iam::${primary}:root` : undefined);
  if (!principal) return { problem: 'name the worker role (--worker-role-arn) or the primary account (primaryAccountId in the plan, or --account-id)' };
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'SecretsDrWorker',
        Effect: 'Allow',
        Principal: { AWS: principal },
        Action: ['sts:AssumeRole'],
        ...(a.externalId ? { Condition: { StringEquals: { 'sts:ExternalId': a.externalId } } } : {}),
      },
    ],
  };
}

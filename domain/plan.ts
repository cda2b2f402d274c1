/**
 * The plan (`secrets-dr.yaml`): which secrets are protected, from which primary Region to which DR
 * Regions, and the policies of every procedure. Validated with zod; everything but `name`,
 * `primaryRegion`, `drRegions` and `secrets` has a safe default. Durations are written as text
 * (`30m`) and parsed to milliseconds, so the parsed plan is JSON-plain and can travel through
 * Temporal as a workflow input.
 */
import { z } from 'zod';
import { cronProblem } from './cron.js';
import { formatDuration, parseDuration } from './duration.js';
import { isKnownRegion } from './regions.js';
import { isAwsManagedKey, keyRegionProblem, parseKeyArn } from './kms.js';
import type { Problem } from './errors.js';
import { issuesToProblems } from './problems.js';

export { issuesToProblems } from './problems.js';

const duration = (example: string) =>
  z.string({ error: `expected a duration such as "${example}"` }).transform((text, ctx) => {
    const ms = parseDuration(text);
    if (ms === undefined) {
      ctx.addIssue({ code: 'custom', message: `"${text}" is not a duration; write it like "${example}" (units ms, s, m, h, d)` });
      return z.NEVER;
    }
    return ms;
  });

const RegionName = z
  .string({ error: 'expected an AWS Region name such as "ap-northeast-3"' })
  .refine((r) => isKnownRegion(r), { error: (iss) => `unknown AWS Region "${String(iss.input)}"` });

const nonEmpty = (what: string) => z.string({ error: `expected ${what}` }).min(1, { error: `${what} must not be empty` });

const TagMatch = z.strictObject({ key: nonEmpty('a tag key'), value: z.string().optional() });

/** One way of naming secrets; a list of selectors is their union. */
export const Selector = z.union(
  [z.strictObject({ prefix: nonEmpty('a name prefix') }), z.strictObject({ name: nonEmpty('a secret name') }), z.strictObject({ tag: TagMatch })],
  { error: 'expected one of { prefix: ... }, { name: ... } or { tag: { key, value } }' },
);
export type Selector = z.infer<typeof Selector>;

export const ConflictPolicy = z.enum(['fail', 'skip', 'overwrite-if-identical', 'backup-then-overwrite', 'adopt', 'ask']);
export type ConflictPolicy = z.infer<typeof ConflictPolicy>;

export const FailoverMode = z.enum(['planned', 'unplanned']);
export type FailoverMode = z.infer<typeof FailoverMode>;

/** `fixed`: the governor keeps to writeQuotaShare; `auto`: it starts at the cap and backs off while throttled (AIMD). */
export type WriteQuotaShareMode = 'fixed' | 'auto';
/**
 * The plan's write share as every writing activity takes it: the share (or auto's cap) and the mode, so that every
 * procedure (setup, fence, drill, restore, rotation, not only promotion) runs the governor the way the plan says.
 */
export interface WriteShare {
  writeQuotaShare: number;
  writeQuotaShareMode?: WriteQuotaShareMode;
}
export function writeShareOf(failover: WriteShare): WriteShare {
  return { writeQuotaShare: failover.writeQuotaShare, ...(failover.writeQuotaShareMode ? { writeQuotaShareMode: failover.writeQuotaShareMode } : {}) };
}
/** The default fixed share: with applications writing up to 20/s, 30 + 20 = the bucket's 50 (bench/apps-share.bench.ts). */
const DEFAULT_WRITE_QUOTA_SHARE = 0.6;
/** The default cap of `writeQuotaShare: auto`. */
const DEFAULT_WRITE_QUOTA_SHARE_MAX = 0.9;

export const FailbackPolicy = z.enum(['keep-dr', 'keep-original', 'ask']);
export type FailbackPolicy = z.infer<typeof FailbackPolicy>;

const DrRegion = z.strictObject({
  region: RegionName,
  /** KMS key for the replica; default: the AWS managed key aws/secretsmanager. */
  kmsKeyId: z.string().min(1).optional(),
});

const ACCOUNT_ID = /^\d{12}$/;
const AccountId = (what: string) =>
  z
    .string({ error: `expected ${what}: a 12-digit AWS account id such as "210987654321" (quote it in YAML so leading zeros stay)` })
    .regex(ACCOUNT_ID, { error: (iss) => `expected ${what}: 12 digits, got "${String(iss.input)}"` });

const ROLE_ARN = /^arn:(aws[a-z-]*):iam::(\d{12}):role\/[\w+=,.@/-]{1,512}$/;

/**
 * A recovery account: every plan secret gets a cross-account replica there, in the primary Region
 * (AssociateCrossAccountReplica needs the same Region and partition). The worker reaches it only
 * through STS AssumeRole of `roleArn`, never with the operator's own credentials.
 */
const RecoveryAccount = z
  .strictObject({
    accountId: AccountId('the recovery account id'),
    roleArn: z
      .string({
        error: 'expected the ARN of the role secrets-dr assumes in the recovery account, such as "arn:aws:iam::210987654321:role/secrets-dr-recovery"',
      })
      .regex(ROLE_ARN, { error: (iss) => `expected an IAM role ARN "arn:aws:iam::<account id>:role/<name>", got "${String(iss.input)}"` }),
    /** The ExternalId the role's trust policy requires (confused-deputy protection); strongly advised. */
    externalId: z
      .string()
      .regex(/^[\w+=,.@:/-]{2,1224}$/, { error: 'externalId: 2-1224 characters of letters, digits and +=,.@:/-' })
      .optional(),
    /**
     * The customer managed KMS key of the replicas in the recovery account (a key of primaryRegion).
     * Required, unlike a DR Region's: AWS refuses CreateSecret(CrossAccountPrimaryARN) without a
     * customer managed key (botocore 1.44.8's model of CreateSecret).
     */
    kmsKeyId: z
      .string({
        error:
          'expected kmsKeyId: a customer managed KMS key of the recovery account in primaryRegion (AWS refuses a cross-account replica without one), such as "alias/payments-recovery"',
      })
      .min(1, { error: 'expected a KMS key id, ARN or alias/NAME of the recovery account' }),
    /** AssociateCrossAccountReplica's ReplicaRestriction: SameOrg (AWS's default) or NoRestriction. */
    replicaRestriction: z.enum(['SameOrg', 'NoRestriction'], { error: 'expected SameOrg or NoRestriction' }).optional(),
  })
  .superRefine((a, ctx) => {
    // Checked here, not with the plan's other cross-field rules, so that they show even while another field of the plan is wrong.
    const roleAccount = ROLE_ARN.exec(a.roleArn)?.[2];
    if (roleAccount !== undefined && ACCOUNT_ID.test(a.accountId) && roleAccount !== a.accountId) {
      ctx.addIssue({
        code: 'custom',
        path: ['roleArn'],
        message: `expected a role of the recovery account ${a.accountId}, got one of account ${roleAccount} (${a.roleArn}): secrets-dr assumes this role to act in ${a.accountId}`,
      });
    }
    const key = parseKeyArn(a.kmsKeyId);
    if (key && ACCOUNT_ID.test(a.accountId) && key.account !== a.accountId) {
      ctx.addIssue({
        code: 'custom',
        path: ['kmsKeyId'],
        message: `expected a key of the recovery account ${a.accountId}, got one of account ${key.account}: the replica is encrypted in its own account`,
      });
    }
    if (isAwsManagedKey(a.kmsKeyId)) {
      ctx.addIssue({
        code: 'custom',
        path: ['kmsKeyId'],
        message: 'expected a customer managed key: AWS refuses a cross-account replica under the AWS managed key aws/secretsmanager',
      });
    }
  });
export type RecoveryAccount = z.infer<typeof RecoveryAccount>;

const Conflicts = z.strictObject({
  policy: ConflictPolicy.default('backup-then-overwrite'),
  approvalTimeout: duration('30m').default(30 * 60_000),
  /** Per-secret overrides, first match wins. */
  overrides: z.array(z.strictObject({ match: Selector, policy: ConflictPolicy })).default([]),
});

const FailoverInput = z.strictObject({
  mode: FailoverMode.default('planned'),
  automatic: z.boolean().default(false),
  requireApproval: z.boolean().default(true),
  approvalTimeout: duration('60m').default(60 * 60_000),
  minDelayBetweenFailovers: duration('30m').default(30 * 60_000),
  /** Automatic recovery: how long an operator may veto a confirmed outage's failover; default health.interval. */
  vetoWindow: duration('5m').optional(),
  /**
   * Share of each Region's 50 TPS write bucket (shared with the applications) that the orchestrator's writes
   * may use: a fixed number in (0, 1], or `auto` (adaptive, see writeQuotaShareMax).
   */
  writeQuotaShare: z
    .union([
      z
        .number({ error: 'expected a number between 0 and 1 (share of the 50 TPS write quota) or auto' })
        .gt(0, { error: 'writeQuotaShare must be greater than 0' })
        .max(1, { error: 'writeQuotaShare must be at most 1 (the whole 50 TPS write quota)' }),
      z.literal('auto'),
    ])
    .default(DEFAULT_WRITE_QUOTA_SHARE)
    .describe(
      "Share of each Region's 50 TPS write bucket (shared with the applications) the orchestrator's writes may use: a number in (0, 1] held steady (default 0.6 = 30 writes/s), or auto: start at writeQuotaShareMax and back off while throttled",
    ),
  /** With `writeQuotaShare: auto`: the most the orchestrator ever uses; it starts there and backs off while throttled. */
  writeQuotaShareMax: z
    .number({ error: 'expected a number between 0 and 1 (the cap of writeQuotaShare: auto)' })
    .gt(0, { error: 'writeQuotaShareMax must be greater than 0' })
    .max(1, { error: 'writeQuotaShareMax must be at most 1 (the whole 50 TPS write quota)' })
    .optional()
    .describe('Only with writeQuotaShare: auto — the most it ever uses (default 0.9); estimates and previews use it'),
  fence: z.boolean().default(true),
  groups: z.array(z.strictObject({ name: nonEmpty('a group name'), match: Selector })).default([]),
});

/**
 * The parsed failover policy: `writeQuotaShare` is always a number, the most the orchestrator may use
 * (the fixed share, or the cap of `auto`), and `writeQuotaShareMode` says whether the governor adapts
 * below it. Every estimate (duration, cost) therefore uses the cap: the fastest it can go.
 */
const FailoverPolicy = FailoverInput.transform(({ writeQuotaShare, writeQuotaShareMax, ...rest }, ctx) => {
  if (writeQuotaShare !== 'auto' && writeQuotaShareMax !== undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['writeQuotaShareMax'],
      message: `writeQuotaShareMax caps writeQuotaShare: auto, but writeQuotaShare is the fixed ${writeQuotaShare}; remove writeQuotaShareMax, or write writeQuotaShare: auto`,
    });
  }
  return writeQuotaShare === 'auto'
    ? { ...rest, writeQuotaShare: writeQuotaShareMax ?? DEFAULT_WRITE_QUOTA_SHARE_MAX, writeQuotaShareMode: 'auto' as WriteQuotaShareMode }
    : { ...rest, writeQuotaShare, writeQuotaShareMode: 'fixed' as WriteQuotaShareMode };
});

const Failback = z.strictObject({
  /** A secret changed only in the original Region after failover (a stray write to the old primary). */
  onOriginalChanged: FailbackPolicy.default('keep-dr'),
  /** A secret changed on both sides since failover. */
  onBothChanged: FailbackPolicy.default('ask'),
  approvalTimeout: duration('60m').default(60 * 60_000),
});

const Setup = z.strictObject({
  /** How long a replica may stay InProgress before the secret is reported as timed out. */
  inSyncTimeout: duration('10m').default(10 * 60_000),
  /** Secrets set up at once (each costs a few write calls). */
  concurrency: z.number().int().min(1).max(500).default(50),
});

const Health = z.strictObject({
  interval: duration('60s').default(60_000),
  unhealthyAfter: z.number().int().min(1).default(3),
  alarms: z.array(nonEmpty('an alarm name')).default([]),
  /**
   * Optional slower cycle: every this often the monitor checks, in each DR Region, that applications'
   * read paths (GetSecretValue and the Parameter Store reference) return the current version.
   */
  readPathInterval: duration('15m').optional(),
});

const Drills = z.strictObject({
  schedule: z.string().min(1).default('0 3 * * 6'),
  canaries: z.number().int().min(1).max(20).default(3),
  rtoTarget: duration('5m').default(5 * 60_000),
  /** Drills run on canary copies; production secrets only when this is true. */
  useProductionSecrets: z.boolean().default(false),
});

const Events = z.strictObject({ bus: z.string().min(1).default('default') });

export const PlanSchema = z
  .strictObject({
    name: z.string({ error: 'expected the plan name' }).regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$/, {
      error: 'plan name: 1-63 letters, digits, "-", "_" or "." (it becomes part of workflow ids and secret names)',
    }),
    primaryRegion: RegionName,
    /** KMS key for replicas in primaryRegion (`failback --reverse` re-protects the old primary with it); default: the key each secret had there. */
    primaryKmsKeyId: z.string().min(1, { error: 'expected a KMS key id, ARN or alias/NAME of primaryRegion' }).optional(),
    /** The account that owns the primary secrets (recovery accounts must differ from it); default: told by the secrets' ARNs at run time. */
    primaryAccountId: AccountId('primaryAccountId').optional(),
    drRegions: z.array(DrRegion).min(1, { error: 'list at least one DR Region' }),
    /** Cross-account replicas of every plan secret, in primaryRegion (account DR); combined freely with drRegions. */
    recoveryAccounts: z.array(RecoveryAccount).default([]),
    secrets: z.strictObject({
      include: z.array(Selector).min(1, { error: 'list at least one selector under secrets.include' }),
      exclude: z.array(Selector).default([]),
    }),
    conflicts: Conflicts.default(Conflicts.parse({})),
    failover: FailoverPolicy.default(FailoverPolicy.parse({})),
    failback: Failback.default(Failback.parse({})),
    setup: Setup.default(Setup.parse({})),
    /** Rotation Lambda per Region, re-homed on failover/failback. */
    rotation: z.record(z.string(), z.string().regex(/^arn:aws[a-z-]*:lambda:/, { error: 'expected a Lambda function ARN' })).default({}),
    health: Health.default(Health.parse({})),
    drills: Drills.default(Drills.parse({})),
    events: Events.default(Events.parse({})),
  })
  .superRefine((plan, ctx) => {
    const seen = new Set<string>();
    plan.drRegions.forEach((dr, i) => {
      if (dr.region === plan.primaryRegion) {
        ctx.addIssue({ code: 'custom', path: ['drRegions', i, 'region'], message: `DR Region ${dr.region} is the primary Region; pick another Region` });
      }
      if (seen.has(dr.region)) {
        ctx.addIssue({ code: 'custom', path: ['drRegions', i, 'region'], message: `DR Region ${dr.region} is listed twice` });
      }
      seen.add(dr.region);
    });
    const primaryKey = plan.primaryKmsKeyId === undefined ? undefined : keyRegionProblem(plan.primaryKmsKeyId, plan.primaryRegion);
    if (primaryKey)
      ctx.addIssue({
        code: 'custom',
        path: ['primaryKmsKeyId'],
        message: `primaryKmsKeyId must be a key of primaryRegion ${plan.primaryRegion}: ${primaryKey}`,
      });
    plan.drRegions.forEach((dr, i) => {
      const problem = dr.kmsKeyId === undefined ? undefined : keyRegionProblem(dr.kmsKeyId, dr.region);
      if (problem)
        ctx.addIssue({
          code: 'custom',
          path: ['drRegions', i, 'kmsKeyId'],
          message: `the replica key of ${dr.region} must be a key of ${dr.region}: ${problem}`,
        });
    });
    for (const p of recoveryAccountProblems(plan)) ctx.addIssue({ code: 'custom', path: p.path, message: p.message });
    const planRegions = new Set<string>([plan.primaryRegion, ...plan.drRegions.map((d) => d.region)]);
    for (const [region, arn] of Object.entries(plan.rotation)) {
      if (!planRegions.has(region)) {
        ctx.addIssue({ code: 'custom', path: ['rotation', region], message: `Region ${region} is not in the plan (primaryRegion or drRegions)` });
      } else if (!arn.includes(`:lambda:${region}:`)) {
        ctx.addIssue({
          code: 'custom',
          path: ['rotation', region],
          message: `the rotation Lambda for ${region} must live in ${region} (Lambda ARNs are regional)`,
        });
      }
    }
    const groups = new Set<string>();
    plan.failover.groups.forEach((g, i) => {
      if (groups.has(g.name)) ctx.addIssue({ code: 'custom', path: ['failover', 'groups', i, 'name'], message: `group "${g.name}" is listed twice` });
      groups.add(g.name);
    });
    for (const p of recoverySafetyProblems(plan)) ctx.addIssue({ code: 'custom', path: p.path, message: p.message });
  });

/**
 * Recovery accounts across the plan: each listed once, never the primary account, its key (when given
 * as an ARN) in primaryRegion (the replica lives beside the primary).
 */
function recoveryAccountProblems(plan: {
  primaryRegion: string;
  primaryAccountId?: string;
  recoveryAccounts: RecoveryAccount[];
}): Array<{ path: PropertyKey[]; message: string }> {
  const out: Array<{ path: PropertyKey[]; message: string }> = [];
  const seen = new Set<string>();
  plan.recoveryAccounts.forEach((a, i) => {
    if (plan.primaryAccountId !== undefined && a.accountId === plan.primaryAccountId) {
      out.push({
        path: ['recoveryAccounts', i, 'accountId'],
        message: `recovery account ${a.accountId} is primaryAccountId: an account cannot be its own recovery account; name another account (Region DR is drRegions)`,
      });
    }
    if (seen.has(a.accountId)) out.push({ path: ['recoveryAccounts', i, 'accountId'], message: `recovery account ${a.accountId} is listed twice` });
    seen.add(a.accountId);
    const region = keyRegionProblem(a.kmsKeyId, plan.primaryRegion);
    if (region)
      out.push({ path: ['recoveryAccounts', i, 'kmsKeyId'], message: `the replica key must be a key of primaryRegion ${plan.primaryRegion}: ${region}` });
  });
  return out;
}

/** Shortest probe interval and veto window of an automatic plan: below it, one blip can start a failover. */
const MIN_AUTOMATIC_INTERVAL_MS = 5_000;
/** Fewest consecutive failed probes that may confirm an outage in an automatic plan. */
const MIN_AUTOMATIC_UNHEALTHY_AFTER = 2;
/** Shortest approval timeout: a gate that times out at once is never answered. */
const MIN_APPROVAL_TIMEOUT_MS = 1_000;

/**
 * Settings that would make automatic recovery trigger-happy, or a gate that can never be answered:
 * each with its exact path, what is expected, what was given and what to do.
 */
function recoverySafetyProblems(plan: {
  failover: { automatic: boolean; approvalTimeout: number; vetoWindow?: number };
  conflicts: { approvalTimeout: number };
  failback: { approvalTimeout: number };
  health: { interval: number; unhealthyAfter: number; readPathInterval?: number };
  drills: { schedule: string };
}): Array<{ path: PropertyKey[]; message: string }> {
  const out: Array<{ path: PropertyKey[]; message: string }> = [];
  const { failover, health } = plan;
  if (failover.automatic && health.interval < MIN_AUTOMATIC_INTERVAL_MS) {
    out.push({
      path: ['health', 'interval'],
      message: `expected at least ${formatDuration(MIN_AUTOMATIC_INTERVAL_MS)} when failover.automatic is true, got ${formatDuration(health.interval)}: probes this close together can confirm an outage from a passing blip; write e.g. "60s", or set failover.automatic: false`,
    });
  }
  if (failover.automatic && health.unhealthyAfter < MIN_AUTOMATIC_UNHEALTHY_AFTER) {
    out.push({
      path: ['health', 'unhealthyAfter'],
      message: `expected at least ${MIN_AUTOMATIC_UNHEALTHY_AFTER} when failover.automatic is true, got ${health.unhealthyAfter}: one failed probe must not start a failover; write e.g. 3, or set failover.automatic: false`,
    });
  }
  if (failover.vetoWindow !== undefined && failover.vetoWindow < MIN_AUTOMATIC_INTERVAL_MS) {
    out.push({
      path: ['failover', 'vetoWindow'],
      message: `expected at least ${formatDuration(MIN_AUTOMATIC_INTERVAL_MS)}, got ${formatDuration(failover.vetoWindow)}: nobody can veto an automatic failover in that time; write e.g. "5m", or leave it out (default: health.interval)`,
    });
  }
  const gates: Array<[PropertyKey[], number]> = [
    [['conflicts', 'approvalTimeout'], plan.conflicts.approvalTimeout],
    [['failover', 'approvalTimeout'], failover.approvalTimeout],
    [['failback', 'approvalTimeout'], plan.failback.approvalTimeout],
  ];
  for (const [path, ms] of gates) {
    if (ms < MIN_APPROVAL_TIMEOUT_MS) {
      out.push({
        path,
        message: `expected at least ${formatDuration(MIN_APPROVAL_TIMEOUT_MS)}, got ${formatDuration(ms)}: the approval would time out before anyone can answer it; write e.g. "30m"`,
      });
    }
  }
  if (health.readPathInterval !== undefined && health.readPathInterval < health.interval) {
    out.push({
      path: ['health', 'readPathInterval'],
      message: `expected at least health.interval (${formatDuration(health.interval)}), got ${formatDuration(health.readPathInterval)}: the read-path check is the slower cycle (it reads every secret twice per DR Region); write e.g. "15m", or leave it out`,
    });
  }
  const cron = cronProblem(plan.drills.schedule);
  if (cron) {
    out.push({
      path: ['drills', 'schedule'],
      message: `expected a cron expression such as "0 3 * * 6" (minute hour day-of-month month day-of-week, UTC), got "${plan.drills.schedule}": ${cron}`,
    });
  }
  return out;
}

/** The validated plan (defaults filled, durations in milliseconds). JSON-plain. */
export type Plan = z.output<typeof PlanSchema>;

/** A plan inside a workflow or activity payload: already parsed by the CLI (parsePlanText), so only its shape is checked here. */
export const PlanPayload = z.custom<Plan>((v) => typeof v === 'object' && v !== null, { error: 'plan: expected a parsed plan object' });

/**
 * The orchestrator's write rate in words, for previews and `plan show`: the fixed share, or auto's cap (which
 * every estimate uses: the fastest it can go, slower while the applications need more of the bucket).
 */
export function writeShareText(failover: Pick<Plan['failover'], 'writeQuotaShare' | 'writeQuotaShareMode'>, regionTps = 50): string {
  const perSecond = Math.round(failover.writeQuotaShare * regionTps);
  return failover.writeQuotaShareMode === 'auto'
    ? `up to ${perSecond} writes/s = writeQuotaShare auto, capped at ${failover.writeQuotaShare} of the Region's ${regionTps} TPS (backs off while throttled; estimates use the cap)`
    : `${perSecond} writes/s = writeQuotaShare ${failover.writeQuotaShare} of the Region's ${regionTps} TPS`;
}

/** The plan's recovery account with this id, or undefined. */
export function recoveryAccount(plan: Plan, accountId: string): RecoveryAccount | undefined {
  return plan.recoveryAccounts.find((a) => a.accountId === accountId);
}

/** Every Region of the plan, primary first. */
export function planRegions(plan: Plan): string[] {
  return [plan.primaryRegion, ...plan.drRegions.map((d) => d.region)];
}

/** Validates a parsed plan document; every problem comes back with its path (`drRegions[0].region`). */
export function validatePlan(doc: unknown): { ok: true; plan: Plan } | { ok: false; problems: Problem[] } {
  // reportInput: zod 4 leaves the offending value out of issues by default, and "expected X, got Y" needs it.
  const result = PlanSchema.safeParse(doc, { reportInput: true });
  if (result.success) return { ok: true, plan: result.data };
  return { ok: false, problems: issuesToProblems(result.error.issues, doc) };
}

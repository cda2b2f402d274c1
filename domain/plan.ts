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
import type { Problem } from './errors.js';

const duration = (example: string) =>
  z
    .string({ error: `expected a duration such as "${example}"` })
    .transform((text, ctx) => {
      const ms = parseDuration(text);
      if (ms === undefined) {
        ctx.addIssue({ code: 'custom', message: `"${text}" is not a duration; write it like "${example}" (units ms, s, m, h, d)` });
        return z.NEVER;
      }
      return ms;
    });

export const RegionName = z
  .string({ error: 'expected an AWS Region name such as "ap-northeast-3"' })
  .refine((r) => isKnownRegion(r), { error: (iss) => `unknown AWS Region "${String(iss.input)}"` });

const nonEmpty = (what: string) => z.string({ error: `expected ${what}` }).min(1, { error: `${what} must not be empty` });

export const TagMatch = z.strictObject({ key: nonEmpty('a tag key'), value: z.string().optional() });

/** One way of naming secrets; a list of selectors is their union. */
export const Selector = z.union(
  [
    z.strictObject({ prefix: nonEmpty('a name prefix') }),
    z.strictObject({ name: nonEmpty('a secret name') }),
    z.strictObject({ tag: TagMatch }),
  ],
  { error: 'expected one of { prefix: ... }, { name: ... } or { tag: { key, value } }' },
);
export type Selector = z.infer<typeof Selector>;

export const ConflictPolicy = z.enum(['fail', 'skip', 'overwrite-if-identical', 'backup-then-overwrite', 'adopt', 'ask']);
export type ConflictPolicy = z.infer<typeof ConflictPolicy>;

export const FailoverMode = z.enum(['planned', 'unplanned']);
export type FailoverMode = z.infer<typeof FailoverMode>;

export const FailbackPolicy = z.enum(['keep-dr', 'keep-original', 'ask']);
export type FailbackPolicy = z.infer<typeof FailbackPolicy>;

const DrRegion = z.strictObject({
  region: RegionName,
  /** KMS key for the replica; default: the AWS managed key aws/secretsmanager. */
  kmsKeyId: z.string().min(1).optional(),
});

const Conflicts = z.strictObject({
  policy: ConflictPolicy.default('backup-then-overwrite'),
  approvalTimeout: duration('30m').default(30 * 60_000),
  /** Per-secret overrides, first match wins. */
  overrides: z.array(z.strictObject({ match: Selector, policy: ConflictPolicy })).default([]),
});

const Failover = z.strictObject({
  mode: FailoverMode.default('planned'),
  automatic: z.boolean().default(false),
  requireApproval: z.boolean().default(true),
  approvalTimeout: duration('60m').default(60 * 60_000),
  minDelayBetweenFailovers: duration('30m').default(30 * 60_000),
  /** Automatic recovery: how long an operator may veto a confirmed outage's failover; default health.interval. */
  vetoWindow: duration('5m').optional(),
  writeQuotaShare: z
    .number({ error: 'expected a number between 0 and 1 (share of the 50 TPS write quota)' })
    .gt(0, { error: 'writeQuotaShare must be greater than 0' })
    .max(1, { error: 'writeQuotaShare must be at most 1 (the whole 50 TPS write quota)' })
    .default(0.6),
  fence: z.boolean().default(true),
  groups: z.array(z.strictObject({ name: nonEmpty('a group name'), match: Selector })).default([]),
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
    name: z
      .string({ error: 'expected the plan name' })
      .regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$/, {
        error: 'plan name: 1-63 letters, digits, "-", "_" or "." (it becomes part of workflow ids and secret names)',
      }),
    primaryRegion: RegionName,
    drRegions: z.array(DrRegion).min(1, { error: 'list at least one DR Region' }),
    secrets: z.strictObject({
      include: z.array(Selector).min(1, { error: 'list at least one selector under secrets.include' }),
      exclude: z.array(Selector).default([]),
    }),
    conflicts: Conflicts.default(Conflicts.parse({})),
    failover: Failover.default(Failover.parse({})),
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
    const planRegions = new Set<string>([plan.primaryRegion, ...plan.drRegions.map((d) => d.region)]);
    for (const [region, arn] of Object.entries(plan.rotation)) {
      if (!planRegions.has(region)) {
        ctx.addIssue({ code: 'custom', path: ['rotation', region], message: `Region ${region} is not in the plan (primaryRegion or drRegions)` });
      } else if (!arn.includes(`:lambda:${region}:`)) {
        ctx.addIssue({ code: 'custom', path: ['rotation', region], message: `the rotation Lambda for ${region} must live in ${region} (Lambda ARNs are regional)` });
      }
    }
    const groups = new Set<string>();
    plan.failover.groups.forEach((g, i) => {
      if (groups.has(g.name)) ctx.addIssue({ code: 'custom', path: ['failover', 'groups', i, 'name'], message: `group "${g.name}" is listed twice` });
      groups.add(g.name);
    });
    for (const p of recoverySafetyProblems(plan)) ctx.addIssue({ code: 'custom', path: p.path, message: p.message });
  });

/** Shortest probe interval and veto window of an automatic plan: below it, one blip can start a failover. */
export const MIN_AUTOMATIC_INTERVAL_MS = 5_000;
/** Fewest consecutive failed probes that may confirm an outage in an automatic plan. */
export const MIN_AUTOMATIC_UNHEALTHY_AFTER = 2;
/** Shortest approval timeout: a gate that times out at once is never answered. */
export const MIN_APPROVAL_TIMEOUT_MS = 1_000;

/**
 * Settings that would make automatic recovery trigger-happy, or a gate that can never be answered:
 * each with its exact path, what is expected, what was given and what to do.
 */
function recoverySafetyProblems(plan: {
  failover: { automatic: boolean; approvalTimeout: number; vetoWindow?: number };
  conflicts: { approvalTimeout: number };
  failback: { approvalTimeout: number };
  health: { interval: number; unhealthyAfter: number };
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
      out.push({ path, message: `expected at least ${formatDuration(MIN_APPROVAL_TIMEOUT_MS)}, got ${formatDuration(ms)}: the approval would time out before anyone can answer it; write e.g. "30m"` });
    }
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

/** The plan as written (durations as text). */
export type PlanInput = z.input<typeof PlanSchema>;
/** The validated plan (defaults filled, durations in milliseconds). JSON-plain. */
export type Plan = z.output<typeof PlanSchema>;

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

const NOTHING = Symbol('nothing');

/** The value at `path` inside `doc`, or NOTHING when some part of the path is absent. */
function valueAt(doc: unknown, path: readonly PropertyKey[]): unknown {
  let v: unknown = doc;
  for (const part of path) {
    if (v === null || typeof v !== 'object' || !Object.prototype.hasOwnProperty.call(v, part)) return NOTHING;
    v = (v as Record<PropertyKey, unknown>)[part];
  }
  return v;
}

const clip = (s: string) => (s.length > 40 ? `${s.slice(0, 40)}...` : s);

/** What a value is, in the plan author's words. */
export function describeValue(v: unknown): string {
  if (v === null) return 'an empty value (null)';
  if (Array.isArray(v)) return `a list of ${v.length} item${v.length === 1 ? '' : 's'}`;
  if (typeof v === 'string') return `the text ${JSON.stringify(clip(v))}`;
  if (typeof v === 'number' || typeof v === 'bigint') return `the number ${String(v)}`;
  if (typeof v === 'boolean') return `${v} (a boolean)`;
  if (typeof v === 'object') return 'a mapping (key: value)';
  return typeof v;
}

const EXPECTED: Record<string, string> = {
  string: 'expected text',
  number: 'expected a number',
  int: 'expected a whole number',
  boolean: 'expected true or false',
  array: 'expected a list',
  object: 'expected a mapping (key: value)',
  record: 'expected a mapping (key: value)',
};

/** What to write instead, for the mistakes people make (quotes around numbers, numbers without a unit). */
function typeHint(expected: string, message: string, v: unknown): string | undefined {
  if ((expected === 'number' || expected === 'int') && typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return `write it without quotes: ${v.trim()}`;
  if (expected === 'boolean' && typeof v === 'string') return 'write true or false, without quotes';
  if (/duration/.test(message) && typeof v === 'number') return `add a unit: "${v}s", "${v}m" or "${v}ms"`;
  if (expected === 'string' && message === EXPECTED.string && typeof v !== 'object') return `put it in quotes: "${String(v)}"`;
  if (expected === 'array' && v !== null && typeof v !== 'object') return `write it as a list: [${JSON.stringify(v)}]`;
  return undefined;
}

/** "expected X, got Y (what to write)" for a value of the wrong type; "missing (expected X)" when there is none. */
function typeMessage(issue: z.core.$ZodIssueInvalidType, value: unknown): string {
  // Our own messages say what is expected ("expected a duration such as..."); zod's default says "Invalid input: ...".
  const expected = /^expected /.test(issue.message) ? issue.message : (EXPECTED[issue.expected] ?? `expected ${issue.expected}`);
  if (value === NOTHING || value === undefined) return `missing (${expected})`;
  const hint = typeHint(issue.expected, expected, value);
  return `${expected}, got ${describeValue(value)}${hint ? `; ${hint}` : ''}`;
}

/**
 * zod issues → problems with readable paths; unknown keys name the key itself. `input` (the parsed
 * document) lets a value of the wrong type be named even when the issue does not carry it.
 */
export function issuesToProblems(issues: readonly z.core.$ZodIssue[], input: unknown = NOTHING): Problem[] {
  const problems: Problem[] = [];
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        problems.push({ path: formatPath([...issue.path, key]), message: `unknown field "${key}" (check its spelling; see \`secrets-dr plan schema\`)` });
      }
      continue;
    }
    if (issue.code === 'invalid_union' && issue.errors.length > 0) {
      // A selector: say what was expected rather than every branch's complaint.
      problems.push({ path: formatPath(issue.path), message: issue.message });
      continue;
    }
    const value = 'input' in issue ? issue.input : input === NOTHING ? NOTHING : valueAt(input, issue.path);
    let message = issue.message;
    if (issue.code === 'invalid_type') message = typeMessage(issue, value);
    else if (issue.code === 'invalid_value' && value !== NOTHING && value !== undefined) message = `${issue.message.replace(/^Invalid option: /, '')}, got ${describeValue(value)}`;
    problems.push({ path: formatPath(issue.path), message });
  }
  return problems;
}

export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out === '' ? '(plan)' : out;
}

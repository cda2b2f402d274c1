/** Which secrets a plan covers: the union of `include` selectors minus the union of `exclude`. Pure. */
import type { Plan, Selector } from './plan.js';

interface SecretIdentity {
  name: string;
  tags?: ReadonlyArray<{ Key?: string; Value?: string }>;
}

/** Name prefixes of secrets the orchestrator itself owns; never part of a plan's secret set. */
const RESERVED_PREFIXES = ['secrets-dr-backup/', 'secrets-dr-drill/', 'secrets-dr/'] as const;

function isReservedName(name: string): boolean {
  return RESERVED_PREFIXES.some((p) => name.startsWith(p));
}

export function matchesSelector(selector: Selector, secret: SecretIdentity): boolean {
  if ('prefix' in selector) return secret.name.startsWith(selector.prefix);
  if ('name' in selector) return secret.name === selector.name;
  const { key, value } = selector.tag;
  return (secret.tags ?? []).some((t) => t.Key === key && (value === undefined || t.Value === value));
}

/** The tag setup puts on each cross-account replica it creates (such a replica does not carry the primary's tags). */
export const RECOVERY_PLAN_TAG = 'secrets-dr:plan';

/**
 * A plan secret as a recovery account holds it: tagged `secrets-dr:plan=<plan>` by setup. The tool's own secrets
 * there (backups, lineage records, drill canaries) carry that tag too, but live under the reserved name prefixes
 * or carry a `secrets-dr:role`: they are never plan secrets (an account failover must not promote a backup).
 */
export function isRecoveryCopyOfPlan(planName: string, secret: SecretIdentity): boolean {
  if (isReservedName(secret.name)) return false;
  const tags = secret.tags ?? [];
  if (tags.some((t) => t.Key === 'secrets-dr:role')) return false;
  return tags.some((t) => t.Key === RECOVERY_PLAN_TAG && t.Value === planName);
}

export function isCoveredByPlan(plan: Pick<Plan, 'secrets'>, secret: SecretIdentity): boolean {
  if (isReservedName(secret.name)) return false;
  if (!plan.secrets.include.some((s) => matchesSelector(s, secret))) return false;
  return !plan.secrets.exclude.some((s) => matchesSelector(s, secret));
}

/** ListSecrets takes at most 10 values per filter; a value is a name prefix made of the characters of secret names. */
const MAX_FILTER_VALUES = 10;
const FILTER_VALUE = /^[a-zA-Z0-9/_+=.@-]+$/;

/**
 * A ListSecrets `name` filter that returns every secret the plan can cover (a superset: `name` filters match
 * prefixes, and excludes are applied after), so a Region's listing costs the plan's pages, not the Region's:
 * with 300 ms per call, ⌈N/100⌉ pages of a Region's other secrets come before the first promotion. Only when
 * every include selector is a prefix or a name (a tag selector can match any name) and there are at most 10.
 */
export function nameFilterOf(plan: Pick<Plan, 'secrets'>): string[] | undefined {
  const values: string[] = [];
  for (const s of plan.secrets.include) {
    if ('tag' in s) return undefined;
    values.push('prefix' in s ? s.prefix : s.name);
  }
  const unique = [...new Set(values)];
  return unique.length > 0 && unique.length <= MAX_FILTER_VALUES && unique.every((v) => FILTER_VALUE.test(v)) ? unique : undefined;
}

/** The failover group of a secret: index into plan.failover.groups, or groups.length ("everything else", last). */
export function groupIndexOf(plan: Pick<Plan, 'failover'>, secret: SecretIdentity): number {
  const i = plan.failover.groups.findIndex((g) => matchesSelector(g.match, secret));
  return i === -1 ? plan.failover.groups.length : i;
}

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

export function isCoveredByPlan(plan: Pick<Plan, 'secrets'>, secret: SecretIdentity): boolean {
  if (isReservedName(secret.name)) return false;
  if (!plan.secrets.include.some((s) => matchesSelector(s, secret))) return false;
  return !plan.secrets.exclude.some((s) => matchesSelector(s, secret));
}

/** The failover group of a secret: index into plan.failover.groups, or groups.length ("everything else", last). */
export function groupIndexOf(plan: Pick<Plan, 'failover'>, secret: SecretIdentity): number {
  const i = plan.failover.groups.findIndex((g) => matchesSelector(g.match, secret));
  return i === -1 ? plan.failover.groups.length : i;
}

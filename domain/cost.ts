/**
 * What a plan costs per month at AWS's published prices (domain/prices.ts): the replicas, the
 * monitor's ListSecrets calls at the plan's interval, the optional read-path cycle, and the
 * secrets secrets-dr keeps (backups, lineage records such as the HMAC key and its replicas).
 * Pure and JSON-plain: `plan show --cost` and `setup --dry-run` print it, `--json` carries it.
 */
import type { Plan } from './plan.js';
import { planRegions } from './plan.js';
import type { Prices } from './prices.js';
import type { RegionInventory } from './status.js';
import { hmacKeySecretName } from './lineage.js';
import { lineageRecordPrefix } from './failover.js';
import { failbackRecordPrefix } from './failback.js';

/** AWS prices a month as 730 hours. */
const HOURS_PER_MONTH = 730;
const MONTH_MS = HOURS_PER_MONTH * 3_600_000;
/** A monitor with interval 0 cycles back to back; priced as one cycle per second. */
const FASTEST_CYCLE_MS = 1_000;

interface CostLine {
  item: 'replicas' | 'monitor-calls' | 'read-path-calls' | 'backups' | 'lineage-records';
  /** How many of the unit are billed per month (secrets, or API calls). */
  quantity: number;
  unit: 'secret-month' | 'api-call';
  monthlyUsd: number;
  /** How the quantity was counted, in words. */
  basis: string;
}

interface PlanCost {
  plan: string;
  secrets: number;
  regions: number;
  drRegions: number;
  lines: CostLine[];
  monthlyUsd: number;
  prices: Prices;
}

/** Secrets secrets-dr keeps for a plan: backups and lineage records, counted over every Region. */
interface KeptRecords {
  backups: number;
  lineage: number;
}

const round = (usd: number) => Math.round(usd * 10_000) / 10_000;

/** The monthly cost of a plan that covers `secrets` secrets and keeps `kept`. */
export function planCost(plan: Plan, secrets: number, kept: KeptRecords, prices: Prices): PlanCost {
  const regions = planRegions(plan).length;
  const dr = plan.drRegions.length;
  const secretLine = (item: CostLine['item'], quantity: number, basis: string): CostLine => ({
    item,
    quantity,
    unit: 'secret-month',
    monthlyUsd: round(quantity * prices.secretPerMonthUsd),
    basis,
  });
  const callLine = (item: CostLine['item'], quantity: number, basis: string): CostLine => ({
    item,
    quantity,
    unit: 'api-call',
    monthlyUsd: round((quantity / 10_000) * prices.per10kApiCallsUsd),
    basis,
  });

  const cycles = MONTH_MS / Math.max(plan.health.interval, FASTEST_CYCLE_MS);
  const perCycle = Math.ceil(secrets / 100) + 1;
  const lines: CostLine[] = [
    secretLine('replicas', secrets * dr, `${secrets} secret(s) × ${dr} DR Region(s)`),
    callLine(
      'monitor-calls',
      Math.round(perCycle * regions * cycles),
      `⌈${secrets}/100⌉+1 = ${perCycle} ListSecrets × ${regions} Region(s) × ${Math.round(cycles)} cycles (every ${plan.health.interval / 1000}s, ${HOURS_PER_MONTH} h)`,
    ),
  ];
  if (plan.health.readPathInterval !== undefined) {
    const readCycles = MONTH_MS / Math.max(plan.health.readPathInterval, FASTEST_CYCLE_MS);
    // Each check is a GetSecretValue, and a Parameter Store reference that Secrets Manager answers with one.
    lines.push(
      callLine(
        'read-path-calls',
        Math.round(2 * secrets * dr * readCycles),
        `2 reads × ${secrets} secret(s) × ${dr} DR Region(s) × ${Math.round(readCycles)} cycles`,
      ),
    );
  }
  lines.push(secretLine('backups', kept.backups, `${kept.backups} backup secret(s) kept`));
  lines.push(
    secretLine('lineage-records', kept.lineage, `${kept.lineage} lineage record(s) (HMAC key and its replicas, failover lineage and failback records)`),
  );
  return {
    plan: plan.name,
    secrets,
    regions,
    drRegions: dr,
    lines,
    monthlyUsd: round(lines.reduce((sum, l) => sum + l.monthlyUsd, 0)),
    prices,
  };
}

/** Backups and lineage records of the plan in the inventories read (replicas counted: each is billed). */
export function keptRecords(planName: string, inventories: ReadonlyArray<RegionInventory | undefined>): KeptRecords {
  const backupPrefix = `secrets-dr-backup/${planName}/`;
  const lineageName = hmacKeySecretName(planName);
  // Failovers' lineage records and failbacks' records.
  const recordPrefixes = [lineageRecordPrefix(planName), failbackRecordPrefix(planName)];
  let backups = 0;
  let lineage = 0;
  for (const inv of inventories) {
    for (const e of inv?.entries ?? []) {
      if (e.deleted) continue;
      if (e.name.startsWith(backupPrefix)) backups++;
      else if (e.name === lineageName || recordPrefixes.some((p) => e.name.startsWith(p))) lineage++;
    }
  }
  return { backups, lineage };
}

/** The figures as lines for people. */
export function costText(c: PlanCost): string[] {
  const usd = (n: number) => `$${n.toFixed(2)}`;
  const out = [
    `monthly cost of plan ${c.plan}: ${usd(c.monthlyUsd)} (prices of ${c.prices.asOf}, ${c.prices.source}: $${c.prices.secretPerMonthUsd} per secret per month, $${c.prices.per10kApiCallsUsd} per 10,000 API calls)`,
  ];
  for (const l of c.lines)
    out.push(
      `  ${l.item.padEnd(16)} ${usd(l.monthlyUsd).padStart(10)}  ${l.quantity.toLocaleString('en-US')} ${l.unit === 'api-call' ? 'call(s)' : 'secret-month(s)'}: ${l.basis}`,
    );
  return out;
}

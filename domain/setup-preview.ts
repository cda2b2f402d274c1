/**
 * What `setup` would do, read from a status report without changing anything (`setup --dry-run`):
 * per DR Region, how many secrets would be replicated, are already in sync, or meet a same-named
 * secret (resolved by the conflict policy); and the secrets whose customer managed key would give
 * way to the AWS managed key in a DR Region that names no key. Pure; names and counts only.
 */
import type { Plan } from './plan.js';
import type { StatusReport } from './status.js';
import { conflictPolicyFor } from './replication.js';

interface SetupPreviewRegion {
  region: string;
  kmsKeyId: string;
  replicate: number;
  inSync: number;
  conflicts: Record<string, number>;
  other: Record<string, number>;
}

interface KeyDowngrade {
  secret: string;
  primaryKey: string;
  region: string;
}

interface SetupPreview {
  secrets: number;
  regions: SetupPreviewRegion[];
  /** Primaries with a customer managed key whose replica would use the AWS managed key. */
  keyDowngrades: KeyDowngrade[];
}

export function setupPreview(plan: Plan, report: StatusReport): SetupPreview {
  const regions: SetupPreviewRegion[] = plan.drRegions.map((d) => ({
    region: d.region,
    kmsKeyId: d.kmsKeyId ?? 'aws/secretsmanager (AWS managed)',
    replicate: 0,
    inSync: 0,
    conflicts: {},
    other: {},
  }));
  const keyDowngrades: KeyDowngrade[] = [];
  for (const row of report.rows) {
    plan.drRegions.forEach((d, i) => {
      const r = regions[i]!;
      const state = row.cells[d.region]?.state ?? 'unknown';
      if (state === 'missing' || state === 'Failed') r.replicate++;
      else if (state === 'InSync' || state === 'InProgress') r.inSync++;
      else if (state === 'conflict') {
        const policy = conflictPolicyFor(plan, row.name); // name overrides; a tag override shows in the real run
        r.conflicts[policy] = (r.conflicts[policy] ?? 0) + 1;
      } else r.other[state] = (r.other[state] ?? 0) + 1;
      if (row.kmsKeyId && !d.kmsKeyId && state !== 'conflict') keyDowngrades.push({ secret: row.name, primaryKey: row.kmsKeyId, region: d.region });
    });
  }
  return { secrets: report.rows.length, regions, keyDowngrades };
}

export function setupPreviewText(p: SetupPreview): string[] {
  const out = [`setup --dry-run: nothing was changed. ${p.secrets} secret(s) in the plan.`];
  for (const r of p.regions) {
    const conflicts = Object.entries(r.conflicts).map(([policy, n]) => `${n} same-named (${policy})`);
    const other = Object.entries(r.other).map(([s, n]) => `${n} ${s}`);
    out.push(
      `  ${r.region} (KMS ${r.kmsKeyId}): ${r.replicate} to replicate, ${r.inSync} already replicated${[...conflicts, ...other].map((x) => `, ${x}`).join('')}`,
    );
  }
  if (p.keyDowngrades.length) {
    out.push(
      `warning: ${p.keyDowngrades.length} replica(s) would be encrypted with the AWS managed key aws/secretsmanager although the primary uses a customer managed key; set drRegions[].kmsKeyId to a key of that Region (or a multi-Region key's replica there):`,
    );
    for (const k of p.keyDowngrades.slice(0, 10)) out.push(`  ${k.secret} → ${k.region} (primary key ${k.primaryKey})`);
    if (p.keyDowngrades.length > 10) out.push(`  ... and ${p.keyDowngrades.length - 10} more (--json lists all)`);
  }
  return out;
}

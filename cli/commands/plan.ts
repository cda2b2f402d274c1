/** `secrets-dr plan validate|show|schema`. */
import { z } from 'zod';
import { ExitCode } from '../../domain/errors.js';
import { PlanSchema, writeShareText } from '../../domain/plan.js';
import { formatDuration } from '../../domain/duration.js';
import { defineCommand, PLAN_OPTION } from '../command.js';
import { loadPlanFile } from '../plan-file.js';
import { printJson } from '../output.js';
import { withTemporal } from '../temporal.js';
import { fetchStatus } from './status.js';
import { costText, planCost } from '../../domain/cost.js';
import type { StatusReport } from '../../domain/status.js';
import type { Plan } from '../../domain/plan.js';
import type { Prices } from '../../domain/prices.js';
import { loadPrices, PRICES_OPTION } from '../prices-file.js';

/** The plan's monthly cost from a status read (its covered secrets and the records secrets-dr keeps). */
export function costOfReport(plan: Plan, report: StatusReport, prices: Prices) {
  return planCost(plan, report.rows.length, report.kept ?? { backups: 0, lineage: 0 }, prices);
}

const noArgs = (what: string) => z.array(z.string()).max(0, { error: `${what} takes no arguments` });

export const planValidateCommand = defineCommand({
  words: ['plan', 'validate'],
  summary: 'validate the plan; every problem listed with its path; exit 2 if invalid',
  examples: ['secrets-dr plan validate', 'secrets-dr plan validate -f payments.yaml --json'],
  options: { ...PLAN_OPTION },
  schema: z.object({ plan: z.string(), positionals: noArgs('plan validate') }),
  async run(opts, io) {
    const { path, plan } = loadPlanFile(opts.plan); // throws with every problem (exit 2)
    if (io.json) printJson(io, { valid: true, path, plan });
    else {
      io.out(`${path}: valid plan "${plan.name}"`);
      io.out(`  primary ${plan.primaryRegion}; DR ${plan.drRegions.map((d) => `${d.region}${d.kmsKeyId ? ` (KMS ${d.kmsKeyId})` : ''}`).join(', ')}`);
      io.out(
        `  conflicts: ${plan.conflicts.policy}; failover: ${plan.failover.mode}, ${plan.failover.automatic ? 'automatic' : 'manual'}, approval ${plan.failover.requireApproval ? `required (${formatDuration(plan.failover.approvalTimeout)})` : 'not required'}, ${writeShareText(plan.failover)}`,
      );
    }
    return ExitCode.Ok;
  },
});

export const planSchemaCommand = defineCommand({
  words: ['plan', 'schema'],
  summary: 'print the JSON Schema of the plan file (for editors)',
  examples: ['secrets-dr plan schema > secrets-dr.schema.json'],
  options: {},
  schema: z.object({ positionals: noArgs('plan schema') }),
  async run(_opts, io) {
    const schema = z.toJSONSchema(PlanSchema, { io: 'input', unrepresentable: 'any' });
    io.out(JSON.stringify({ ...schema, title: 'secrets-dr plan (secrets-dr.yaml)' }, null, 2));
    return ExitCode.Ok;
  },
});

export const planShowCommand = defineCommand({
  words: ['plan', 'show'],
  summary: 'the resolved secret set and Regions (read through the status workflow)',
  examples: ['secrets-dr plan show -f secrets-dr.yaml', 'secrets-dr plan show --cost', 'secrets-dr plan show --cost --prices prices-2027.json --json'],
  options: {
    ...PLAN_OPTION,
    cost: { type: 'boolean', default: false, description: "add the plan's monthly cost: replicas, monitor calls, backups and lineage records kept" },
    ...PRICES_OPTION,
  },
  schema: z.object({ plan: z.string(), cost: z.boolean().default(false), prices: z.string().min(1).optional(), positionals: noArgs('plan show') }),
  async run(opts, io) {
    const { plan } = loadPlanFile(opts.plan);
    const prices = opts.cost || opts.prices !== undefined ? loadPrices(opts.prices) : undefined; // a bad price file fails before any call
    return withTemporal({}, async (c) => {
      const report = await fetchStatus(c, plan);
      const secrets = report.rows.map((r) => ({ name: r.name, group: r.group ?? null }));
      const cost = prices ? costOfReport(plan, report, prices) : undefined;
      if (io.json) {
        printJson(io, {
          plan: plan.name,
          primaryRegion: plan.primaryRegion,
          drRegions: plan.drRegions,
          secrets,
          regions: report.regions,
          ...(cost ? { cost } : {}),
        });
      } else {
        io.out(`plan ${plan.name}`);
        io.out(`  primary: ${plan.primaryRegion}`);
        for (const d of plan.drRegions) io.out(`  DR:      ${d.region} (KMS ${d.kmsKeyId ?? 'aws/secretsmanager'})`);
        io.out(`  ${secrets.length} secret(s):`);
        for (const s of secrets) io.out(`    ${s.name}${s.group ? `  [${s.group}]` : ''}`);
        if (cost) for (const line of costText(cost)) io.out(line);
      }
      return ExitCode.Ok;
    });
  },
});

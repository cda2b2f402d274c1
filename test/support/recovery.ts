/**
 * Helpers of the monitor/recover/receiver integration tests: workers for Regions of their own
 * (the lab serves every Region; other test files use the harness's pair), so fleets, faults and
 * list-call counters of these tests do not mix with theirs, and plans over those Regions.
 */
import { bundleWorkflowCode } from '@temporalio/worker';
import { NativeConnection } from '@temporalio/worker';
import { inject } from 'vitest';
import { startWorkers, workflowsPath, type RunningWorkers } from '../../worker/worker.js';
import { parsePlanText } from '../../cli/plan-file.js';
import type { Plan } from '../../domain/plan.js';
import { workflowTaskQueue } from '../../domain/ids.js';
import type { Harness } from './integration.js';

export interface RegionWorkers {
  prefix: string;
  workers: RunningWorkers;
  close(): Promise<void>;
}

/** Workers (workflow queue + the given Regions) on a prefix of their own. */
export async function startRegionWorkers(h: Harness, regions: string[]): Promise<RegionWorkers> {
  const prefix = `${h.prefix}-r`;
  const connection = await NativeConnection.connect({ address: inject('temporalAddress') });
  const bundle = await bundleWorkflowCode({ workflowsPath: workflowsPath(), logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} } });
  // The file's restricted key (the generated worker policy, enforced by the lab), as the harness's workers.
  const workers = await startWorkers({
    connection,
    namespace: 'default',
    regions,
    taskQueuePrefix: prefix,
    awsTimeoutMs: 3_000,
    workflowBundle: bundle,
    ...h.workerClients,
  });
  return {
    prefix,
    workers,
    async close() {
      await workers.shutdown();
      await connection.close();
    },
  };
}

/** A plan over two Regions of this file, covering `names` (a prefix). */
export function regionPlan(name: string, primary: string, dr: string, names: string, extra = ''): Plan {
  const { plan, problems } = parsePlanText(
    `name: ${name}\nprimaryRegion: ${primary}\ndrRegions: [{ region: ${dr} }]\nsecrets:\n  include: [{ prefix: "${names}" }]\n${extra}`,
  );
  if (!plan) throw new Error(`test plan invalid: ${JSON.stringify(problems)}`);
  return plan;
}

/**
 * The plan file refuses automatic failover with probes under 5 s or fewer than 2 of them (trigger-
 * happy in production, domain/plan.ts). Tests on the lab probe faster: they validate a sane plan,
 * then shorten its health settings here (workflows take the parsed plan as given).
 */
export function fastProbes(plan: Plan, health: { interval: number; unhealthyAfter?: number }): Plan {
  return { ...plan, health: { ...plan.health, ...health } };
}

export const queueOf = (prefix: string) => workflowTaskQueue(prefix);

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

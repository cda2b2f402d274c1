/**
 * Chaos helpers: seeds (CHAOS_SEEDS="1,2,3,4,5" for the full set; `npm test` runs the reduced
 * default), a seeded PRNG, and a worker spawned from the built CLI (`dist/`) that a test can
 * SIGKILL and replace.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { LAB_CREDENTIALS } from '../../lab/stack.js';
import { eventually } from './integration.js';

/** The seeds of this run: `CHAOS_SEEDS` (comma-separated integers), else `fallback`. */
export function chaosSeeds(fallback: number[]): number[] {
  const raw = process.env.CHAOS_SEEDS?.trim();
  if (!raw) return fallback;
  const seeds = raw.split(',').map((s) => Number(s.trim()));
  if (seeds.some((s) => !Number.isInteger(s))) throw new Error(`CHAOS_SEEDS must be comma-separated integers, got "${raw}"`);
  return seeds;
}

/** mulberry32: a small deterministic PRNG; `next()` in [0, 1). */
export function prng(seed: number): { next(): number; int(lo: number, hi: number): number } {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)) };
}

export const CLI_RUN = fileURLToPath(new URL('../../dist/cli/run.js', import.meta.url));
export const CLI_BIN = fileURLToPath(new URL('../../bin/secrets-dr.mjs', import.meta.url));

export function requireBuilt(): void {
  const built = fileURLToPath(new URL('../../dist/workflows/failover.workflow.js', import.meta.url));
  if (!existsSync(CLI_RUN) || !existsSync(built)) throw new Error('dist/ is missing or stale: run `npx tsc -p tsconfig.build.json` (npm test builds it through scripts/bootstrap.mjs)');
}

export interface SpawnedWorker {
  child: ChildProcess;
  /** SIGKILL, and wait until the process is gone. */
  kill(): Promise<void>;
}

/** `node dist/cli/run.js worker --regions a,b` on the given Temporal server and task queue prefix; resolves once it polls. */
export async function spawnWorker(opts: { temporalAddress: string; labUrl: string; prefix: string; regions: string[]; logs: string[] }): Promise<SpawnedWorker> {
  const child = spawn(process.execPath, [CLI_RUN, 'worker', '--regions', opts.regions.join(',')], {
    env: {
      ...process.env, ...LAB_CREDENTIALS,
      TEMPORAL_ADDRESS: opts.temporalAddress, SECRETS_DR_TASK_QUEUE_PREFIX: opts.prefix,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: opts.labUrl, AWS_ENDPOINT_URL_EVENTBRIDGE: opts.labUrl, AWS_REGION: opts.regions[0],
      SECRETS_DR_AWS_TIMEOUT_MS: '5000', SECRETS_DR_LOG_LEVEL: 'WARN', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const mine: string[] = [];
  const collect = (d: Buffer) => {
    mine.push(d.toString());
    opts.logs.push(d.toString());
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  await eventually('the spawned worker to poll', async () => {
    if (child.exitCode !== null) throw new Error(`worker exited with ${child.exitCode}: ${mine.join('')}`);
    return mine.join('').includes('secrets-dr worker:') ? true : undefined;
  }, 30_000);
  return {
    child,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

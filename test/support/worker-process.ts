/**
 * A secrets-dr worker as a separate process (`node dist/cli/run.js worker`), for tests that SIGKILL
 * it mid-operation and start a new one: chaos, and the failover/failback crash tests.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { labWorkerEnv } from '../../lab/stack.js';
import { eventually } from './integration.js';

export const CLI_RUN = fileURLToPath(new URL('../../dist/cli/run.js', import.meta.url));
export const CLI_BIN = fileURLToPath(new URL('../../bin/secrets-dr.mjs', import.meta.url));

export function requireBuilt(): void {
  const built = fileURLToPath(new URL('../../dist/workflows/failover.workflow.js', import.meta.url));
  if (!existsSync(CLI_RUN) || !existsSync(built))
    throw new Error('dist/ is missing or stale: run `npx tsc -p tsconfig.build.json` (npm test builds it through scripts/bootstrap.mjs)');
}

export interface SpawnedWorker {
  child: ChildProcess;
  /** SIGKILL, and wait until the process is gone. */
  kill(): Promise<void>;
}

/** `node dist/cli/run.js worker --regions a,b` on the given Temporal server and task queue prefix; resolves once it polls. */
/** `args`: more worker options; `env`: variables over the defaults below (undefined removes one). */
export async function spawnWorker(opts: {
  temporalAddress: string;
  labUrl: string;
  prefix: string;
  regions: string[];
  logs: string[];
  args?: string[];
  env?: Record<string, string | undefined>;
}): Promise<SpawnedWorker> {
  const env: Record<string, string | undefined> = {
    ...process.env,
    ...labWorkerEnv(opts),
    SECRETS_DR_AWS_TIMEOUT_MS: '5000',
    ...opts.env,
  };
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete env[k];
  const child = spawn(process.execPath, [CLI_RUN, 'worker', '--regions', opts.regions.join(','), ...(opts.args ?? [])], {
    env,
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
  await eventually(
    'the spawned worker to poll',
    async () => {
      if (child.exitCode !== null) throw new Error(`worker exited with ${child.exitCode}: ${mine.join('')}`);
      return mine.join('').includes('secrets-dr worker:') ? true : undefined;
    },
    30_000,
  );
  return {
    child,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

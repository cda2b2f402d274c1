/**
 * What the benchmarks share: `--name N` arguments, a progress log on stderr, and the local stack
 * (lab + Temporal dev server + in-process workers + a client) with one clean-up list.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import type { LabOptions, RunningLab } from '../lab/server.js';
import type { TemporalServer } from '../lab/stack.js';
import { startEmbeddedStack } from '../cli/embedded-stack.js';

/** `--name N` from the command line (a positive number), else the fallback. */
export function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : NaN;
  return Number.isFinite(v) && v > 0 ? v : fallback;
}

export const log = (l: string) => process.stderr.write(`[bench] ${l}\n`);
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface BenchStack {
  lab: RunningLab;
  temporal: TemporalServer;
  client: Client;
  /** Task queue prefix of the in-process workers. */
  prefix: string;
  /** Run in reverse order by close(); benchmarks add their own (SDK clients, ...). */
  cleanups: Array<() => Promise<unknown>>;
  close(): Promise<void>;
}

/** The lab on the given Regions, a Temporal dev server and workers for those Regions, all in this process (as the demo starts them). */
export async function startBenchStack(regions: string[], labOptions: Omit<LabOptions, 'port'> = {}): Promise<BenchStack> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  const home = mkdtempSync(join(tmpdir(), 'secrets-dr-bench-'));
  const removeHome = async () => rmSync(home, { recursive: true, force: true });
  try {
    const stack = await startEmbeddedStack({ home, regions, lab: labOptions, taskQueuePrefix: `bench-${randomBytes(3).toString('hex')}` });
    stack.cleanups.unshift(removeHome);
    return { lab: stack.lab, temporal: stack.temporal, client: stack.client.client, prefix: stack.prefix, cleanups: stack.cleanups, close: stack.close };
  } catch (err) {
    await removeHome();
    throw err;
  }
}

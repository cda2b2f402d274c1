/**
 * The prebuilt workflow bundle: `npm run build` writes `dist/workflow-bundle.js` once, so a worker
 * (an installed package, a container) loads it at start instead of running webpack every time.
 * Under vitest/dev (sources, no dist) or when the bundle is older than the built workflows, the
 * worker bundles from `workflows/index` as before: a stale bundle is never loaded.
 */
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode } from '@temporalio/worker';

/** dist/ when this file runs built (dist/worker/workflow-bundle.js); the repository root under vitest. */
const BUILD_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const BUNDLE_FILE = join(BUILD_ROOT, 'workflow-bundle.js');

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

/** The bundle's path when it exists and is at least as new as every built workflow file. */
export function prebuiltBundlePath(): string | undefined {
  if (!existsSync(BUNDLE_FILE)) return undefined;
  const workflowsDir = join(BUILD_ROOT, 'workflows');
  const domainDir = join(BUILD_ROOT, 'domain');
  const built = Math.max(existsSync(workflowsDir) ? newestMtime(workflowsDir) : 0, existsSync(domainDir) ? newestMtime(domainDir) : 0);
  return statSync(BUNDLE_FILE).mtimeMs >= built ? BUNDLE_FILE : undefined;
}

const silent = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} };

/** Writes dist/workflow-bundle.js from the built workflows (called by `npm run build`). */
export async function writeWorkflowBundle(workflowsPath: string): Promise<{ path: string; bytes: number }> {
  const { code } = await bundleWorkflowCode({ workflowsPath, logger: silent });
  writeFileSync(BUNDLE_FILE, code);
  return { path: BUNDLE_FILE, bytes: Buffer.byteLength(code) };
}

/**
 * The prebuilt workflow bundle: `npm run build` writes `dist/workflow-bundle.js` once, so a worker
 * (an installed package, a container) loads it at start instead of running webpack every time.
 * Under vitest/dev (sources, no dist) or when the bundle was not built from the workflow and domain
 * code beside it (a digest of their contents, written with it: file times are no evidence, `npm install`
 * stamps each file as it extracts it), the worker bundles from `workflows/index` as before: a stale
 * bundle is never loaded.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode } from '@temporalio/worker';

/** dist/ when this file runs built (dist/worker/workflow-bundle.js); the repository root under vitest. */
const BUILD_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const BUNDLE_FILE = join(BUILD_ROOT, 'workflow-bundle.js');

const DIGEST_FILE = join(BUILD_ROOT, 'workflow-bundle.sha256');

/** sha256 over the built workflow and domain code (each .js file's path and content, in path order). */
function builtCodeDigest(): string {
  const hash = createHash('sha256');
  const walk = (dir: string, rel: string): void => {
    if (!existsSync(dir)) return;
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = join(dir, entry.name);
      if (entry.isDirectory()) walk(p, `${rel}${entry.name}/`);
      else if (entry.name.endsWith('.js')) hash.update(`${rel}${entry.name}\0`).update(readFileSync(p)); // the code (source maps stay out of the package)
    }
  };
  walk(join(BUILD_ROOT, 'workflows'), 'workflows/');
  walk(join(BUILD_ROOT, 'domain'), 'domain/');
  return hash.digest('hex');
}

/** The bundle's path when it exists and was built from exactly the workflow and domain code beside it. */
export function prebuiltBundlePath(): string | undefined {
  if (!existsSync(BUNDLE_FILE) || !existsSync(DIGEST_FILE)) return undefined;
  return readFileSync(DIGEST_FILE, 'utf8').trim() === builtCodeDigest() ? BUNDLE_FILE : undefined;
}

const silent = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} };

/** Writes dist/workflow-bundle.js from the built workflows (called by `npm run build`). */
export async function writeWorkflowBundle(workflowsPath: string): Promise<{ path: string; bytes: number }> {
  const { code } = await bundleWorkflowCode({ workflowsPath, logger: silent });
  writeFileSync(BUNDLE_FILE, code);
  writeFileSync(DIGEST_FILE, `${builtCodeDigest()}\n`);
  return { path: BUNDLE_FILE, bytes: Buffer.byteLength(code) };
}

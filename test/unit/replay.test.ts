import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'vitest';
import { Worker, bundleWorkflowCode, type WorkflowBundle } from '@temporalio/worker';
import { workflowsPath } from '../../worker/worker.js';
import { dataConverter } from '../../worker/payload-codec.js';

// Histories recorded from real runs on the dev server (RECORD_HISTORIES=1 npm run test:integration).
// Replaying them against today's workflow code catches non-determinism before production does.
const dir = new URL('../fixtures/histories/', import.meta.url);
const files = readdirSync(dir).filter((f) => f.endsWith('.json'));

const quiet = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} };
let bundle: Promise<WorkflowBundle> | undefined;

describe('recorded workflow histories', () => {
  it.each(files)(
    '%s replays without non-determinism',
    async (file) => {
      bundle ??= bundleWorkflowCode({ workflowsPath: workflowsPath(), logger: quiet });
      const history = JSON.parse(readFileSync(new URL(file, dir), 'utf8'));
      await Worker.runReplayHistory({ dataConverter, workflowBundle: await bundle }, history, `replay-${file}`);
    },
    60_000,
  );
});

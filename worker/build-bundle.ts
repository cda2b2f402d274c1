/** `node dist/worker/build-bundle.js`: the last step of `npm run build` (see workflow-bundle.ts). */
import { workflowsPath } from './worker.js';
import { writeWorkflowBundle } from './workflow-bundle.js';

const { path, bytes } = await writeWorkflowBundle(workflowsPath());
process.stderr.write(`[build] workflow bundle ${path} (${(bytes / 1024).toFixed(0)} KiB)\n`);

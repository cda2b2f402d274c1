import { describe, expect, it } from 'vitest';
import { bundleWorkflowCode } from '@temporalio/worker';
import { workflowsPath } from '../../worker/worker.js';

describe('the workflow bundle', () => {
  it('bundles workflows/index.ts for the sandbox, without Node built-ins or the AWS SDK', async () => {
    const { code } = await bundleWorkflowCode({
      workflowsPath: workflowsPath(),
      logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} },
    });
    expect(code.length).toBeGreaterThan(10_000);
    expect(code).not.toMatch(/@aws-sdk\/client-/);
    expect(code).not.toMatch(/require\(["'](node:)?(fs|child_process|net|http|https|crypto)["']\)/);
    expect(code).toContain('statusWorkflow');
  }, 60_000);
});

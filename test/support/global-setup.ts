/**
 * Integration global setup: one real Temporal dev server (the CLI provisioned by
 * scripts/bootstrap.mjs, started through @temporalio/testing with `existing-path`) and one lab,
 * both on free ports; their addresses are provided to the test files. Teardown stops both.
 * With SECRETS_DR_TEST_TARGET=aws the lab is not started: tests talk to real AWS.
 */
import type { TestProject } from 'vitest/node';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { ensureTools } from '../../scripts/tools.mjs';
import { startLab } from '../../lab/server.js';

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
    labUrl: string;
  }
}

export default async function setup(project: TestProject) {
  const { temporal } = ensureTools({ temporal: true }, () => {});
  if (!temporal) throw new Error('no Temporal CLI: run `node scripts/bootstrap.mjs --tools`');
  const env = await TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: temporal },
      ip: '127.0.0.1',
      extraArgs: ['--log-level', 'error', '--dynamic-config-value', 'frontend.enableUpdateWorkflowExecution=true'],
    },
  });
  const address = env.connection.options.address;
  project.provide('temporalAddress', address);

  let lab: Awaited<ReturnType<typeof startLab>> | undefined;
  if (process.env.SECRETS_DR_TEST_TARGET !== 'aws') {
    lab = await startLab({ port: 0 });
    project.provide('labUrl', lab.url);
  } else {
    project.provide('labUrl', '');
  }

  return async () => {
    await lab?.close();
    await env.teardown();
  };
}

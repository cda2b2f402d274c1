import { defineConfig } from 'vitest/config';

// Projects: `unit` (pure logic, no servers, seconds), `lab` (the AWS lab in-process, real SDK
// clients), `conformance` (the same behaviour tests against the lab and a moto server) and
// `integration` (workflows on a real Temporal dev server + the lab, started once by global setup)
// and `chaos` (worker kills, server restarts, faults, duplicate triggers, leak scan, fuzzing).
export default defineConfig({
  test: {
    // 2 cores: two test files at a time (each integration file runs its own Temporal workers).
    maxWorkers: 2,
    minWorkers: 1,
    projects: [
      // Some unit tests spawn the built CLI (~1 s alone, several under load on 2 cores): 30 s, not 5.
      { test: { name: 'unit', include: ['test/unit/**/*.test.ts'], environment: 'node', testTimeout: 30_000 } },
      { test: { name: 'lab', include: ['test/lab/**/*.test.ts'], environment: 'node', testTimeout: 30_000, hookTimeout: 30_000 } },
      {
        test: {
          name: 'conformance',
          include: ['test/conformance/**/*.test.ts'],
          environment: 'node',
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          environment: 'node',
          globalSetup: ['test/support/global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
      {
        // The npm package as a user installs it (npm pack → install into an empty directory).
        test: { name: 'package', include: ['test/package/**/*.test.ts'], environment: 'node', testTimeout: 180_000, hookTimeout: 600_000 },
      },
      {
        // `deploy synth` (AWS CDK, offline) + cfn-lint + checkov on the templates.
        test: { name: 'deploy', include: ['test/deploy/**/*.test.ts'], environment: 'node', testTimeout: 300_000, hookTimeout: 300_000 },
      },
      {
        // `npm run test:chaos`; `npm test` runs the reduced seed set (CHAOS_SEEDS unset), the full
        // set with CHAOS_SEEDS=1,2,3,4,5.
        test: {
          name: 'chaos',
          include: ['test/chaos/**/*.test.ts'],
          environment: 'node',
          globalSetup: ['test/support/global-setup.ts'],
          testTimeout: 240_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});

// Lint: typescript-eslint's recommended rules, plus the architecture's import rules (DESIGN.md):
// workflow code is deterministic sandbox code — no Node built-ins, no AWS SDK, activities by type only.
import tseslint from 'typescript-eslint';

const NODE_BUILTINS = [
  'fs',
  'path',
  'os',
  'crypto',
  'child_process',
  'net',
  'http',
  'https',
  'url',
  'util',
  'stream',
  'events',
  'timers',
  'worker_threads',
  'zlib',
  'dns',
  'tls',
  'process',
  'buffer',
];

export default tseslint.config(
  { ignores: ['deploy/cdk.out/**', 'dist/**', 'node_modules/**', '.tools/**', 'bench/results/**', 'coverage/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  {
    files: ['workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: NODE_BUILTINS.flatMap((m) => [
            { name: m, message: 'Workflow code runs in the Temporal sandbox: no Node built-ins (move this to an activity).' },
            { name: `node:${m}`, message: 'Workflow code runs in the Temporal sandbox: no Node built-ins (move this to an activity).' },
          ]),
          patterns: [
            { group: ['@aws-sdk/*', '@smithy/*'], message: 'Workflow code never talks to AWS: call an activity.' },
            { group: ['node:*'], message: 'Workflow code runs in the Temporal sandbox: no Node built-ins.' },
            {
              group: ['../activities/*', '../../activities/*'],
              allowTypeImports: true,
              message: 'Workflows see activities only through `import type` + proxyActivities.',
            },
            {
              group: ['../worker/*', '../../worker/*', '../cli/*', '../../cli/*', '../lab/*', '../../lab/*'],
              message: 'Workflows may import domain/, xstate and @temporalio/workflow only.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['domain/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ regex: '^(?!zod($|/)|\\./)', message: 'domain/ may import zod (and itself) only.' }] }],
    },
  },
);

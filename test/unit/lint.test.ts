import { describe, expect, it } from 'vitest';
import { ESLint } from 'eslint';

// The architecture's import rules are enforced by lint (eslint.config.js); this proves the rule bites.
describe('lint keeps workflow code deterministic', () => {
  const eslint = new ESLint({ cwd: new URL('../..', import.meta.url).pathname });
  const lint = async (code: string, filePath: string) => (await eslint.lintText(code, { filePath }))[0]!.messages.map((m) => m.message);

  it('refuses Node built-ins, the AWS SDK and value imports of activities in workflows/', async () => {
    const messages = await lint(
      [
        "import { readFileSync } from 'node:fs';",
        "import { SecretsManager } from '@aws-sdk/client-secrets-manager';",
        "import { createInventoryActivities } from '../activities/inventory.activities.js';",
        'export const x = [readFileSync, SecretsManager, createInventoryActivities];',
      ].join('\n'),
      'workflows/probe.workflow.ts',
    );
    expect(messages.join('\n')).toMatch(/no Node built-ins/);
    expect(messages.join('\n')).toMatch(/never talks to AWS/);
    expect(messages.join('\n')).toMatch(/import type/);
  });

  it('allows type-only imports of activities and the workflow SDK', async () => {
    const messages = await lint(
      "import type { InventoryActivities } from '../activities/inventory.activities.js';\nimport { sleep } from '@temporalio/workflow';\nexport type A = InventoryActivities;\nexport const s = sleep;\n",
      'workflows/probe.workflow.ts',
    );
    expect(messages).toEqual([]);
  });

  it('keeps domain/ free of everything but zod', async () => {
    const messages = await lint("import { readFileSync } from 'node:fs';\nimport { z } from 'zod';\nexport const x = [readFileSync, z];\n", 'domain/probe.ts');
    expect(messages.join('\n')).toMatch(/domain\/ may import zod/);
  });
});

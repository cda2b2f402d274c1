import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs script (no declarations); its exports are used as below.
import { deadExports } from '../../scripts/dead-exports.mjs';

type Found = { dead: string[]; allowed: string[]; stale: string[] };
const scan = deadExports as (root?: string, allowed?: Record<string, string>) => Found;

describe('no dead exports (issue 17)', () => {
  it('the tree has none outside the allowlist, and every allowlisted one is still dead (the list only shrinks)', { timeout: 180_000 }, () => {
    const { dead, allowed, stale } = scan();
    expect(dead).toEqual([]);
    expect(stale).toEqual([]);
    expect(allowed.length).toBeGreaterThan(0); // the scan saw the tree (the allowlisted exports are found)
  });

  it('finds an export nobody imports, honours an allowlist entry, and reports a stale one', { timeout: 60_000 }, () => {
    // Prepare: a tiny project where b.ts imports `used` (a value) and `Shape` (a type) from a.ts
    const root = mkdtempSync(join(tmpdir(), 'dead-exports-'));
    try {
      mkdirSync(join(root, 'src'));
      writeFileSync(
        join(root, 'tsconfig.json'),
        JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', strict: true }, include: ['src'] }),
      );
      writeFileSync(
        join(root, 'src', 'a.ts'),
        'export const used = 1;\nexport const unused = 2;\nexport type Shape = { n: number };\nexport interface Kept { n: number }\n',
      );
      writeFileSync(join(root, 'src', 'b.ts'), "import { used, type Shape } from './a.js';\nconst s: Shape = { n: used };\nconsole.log(s);\n");
      // Act
      const found = scan(root, { 'src/a.ts Kept': 'a reason', 'src/a.ts used': 'imported meanwhile' });
      // Assess
      expect(found.dead).toEqual(['src/a.ts:2 unused (value)']);
      expect(found.allowed).toEqual(['src/a.ts:4 Kept (type)']);
      expect(found.stale).toEqual(['src/a.ts used']);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs script (no declarations); its two exports are used as below.
import { importCycles, importGraph, runtimeImports } from '../../scripts/import-cycles.mjs';

type Graph = Map<string, string[]>;
const cycles = importCycles as (g: Graph) => string[][];

describe('no import circle anywhere (issue 17)', () => {
  it('the tree has none: every runtime import between our files flows one way', () => {
    const graph = (importGraph as () => Graph)();
    expect(graph.size).toBeGreaterThan(200); // the scan sees the tree
    expect(cycles(graph)).toEqual([]);
  });

  it('finds a circle through several files and a file importing itself, and nothing in a tree', () => {
    const g: Graph = new Map([
      ['cli/commands/failover.ts', ['cli/follow.ts', 'cli/commands/watch.ts']],
      ['cli/commands/watch.ts', ['cli/commands/failover.ts']],
      ['cli/follow.ts', []],
      ['a.ts', ['b.ts']],
      ['b.ts', ['c.ts']],
      ['c.ts', ['a.ts']],
      ['self.ts', ['self.ts']],
    ]);
    expect(cycles(g)).toEqual(expect.arrayContaining([['cli/commands/failover.ts', 'cli/commands/watch.ts'], ['a.ts', 'b.ts', 'c.ts'], ['self.ts']]));
    expect(cycles(g)).toHaveLength(3);
    expect(
      cycles(
        new Map([
          ['x.ts', ['y.ts']],
          ['y.ts', []],
        ]),
      ),
    ).toEqual([]);
  });

  it('type-only imports do not count (the compiler erases them); value, side-effect and dynamic imports do', () => {
    const src = [
      "import type { A } from './a.js';",
      "import { type B, type C } from './bc.js';",
      "export type { D } from './d.js';",
      "import { e, type F } from './ef.js';",
      "import './side.js';",
      "export { g } from './g.js';",
      "const h = await import('./h.js');",
    ].join('\n');
    expect((runtimeImports as (s: string) => string[])(src).sort()).toEqual(['./ef.js', './g.js', './h.js', './side.js']);
  });
});

#!/usr/bin/env node
// Import circles between our own modules (`node scripts/import-cycles.mjs`; exit 1 when there is one).
// A circle is a set of files that import each other at run time, directly or through others
// (Tarjan's strongly connected components over relative imports). `import type` / `export type`
// are erased by the compiler and do not count; `import()` does.
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SOURCE_DIRS = ['domain', 'workflows', 'activities', 'worker', 'cli', 'lab', 'dashboard', 'deploy', 'bench', 'test'];

/** Runtime import specifiers of one TypeScript source (type-only imports and re-exports left out). */
export function runtimeImports(source) {
  const out = [];
  const text = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  const statement = /(?:^|[;\n])\s*(import|export)\s+(type\s+)?([^;'"]*?)\s*from\s*['"]([^'"]+)['"]/g;
  for (const m of text.matchAll(statement)) {
    if (m[2]) continue; // import type / export type
    const clause = m[3].trim();
    // `import { type A, type B } from`: only types, erased.
    const braces = /^\{([^}]*)\}$/.exec(clause);
    if (
      braces &&
      braces[1]
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
        .every((s) => s.startsWith('type '))
    )
      continue;
    out.push(m[4]);
  }
  for (const m of text.matchAll(/(?:^|[;\n])\s*import\s*['"]([^'"]+)['"]/g)) out.push(m[1]); // side-effect import
  for (const m of text.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)) out.push(m[1]);
  return out;
}

function walk(dir, files) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) {
      if (e.name !== 'node_modules' && e.name !== 'cdk.out' && e.name !== 'fixtures') walk(p, files);
    } else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) files.push(p);
  }
}

/** file (relative to the root) → the files of ours it imports at run time. */
export function importGraph(root = ROOT) {
  const files = [];
  for (const d of SOURCE_DIRS) if (existsSync(join(root, d))) walk(join(root, d), files);
  const graph = new Map();
  for (const f of files) {
    const deps = [];
    for (const spec of runtimeImports(readFileSync(f, 'utf8'))) {
      if (!spec.startsWith('.')) continue;
      const target = resolve(dirname(f), spec).replace(/\.js$/, '.ts');
      if (existsSync(target)) deps.push(relative(root, target));
    }
    graph.set(relative(root, f), deps);
  }
  return graph;
}

/** Every circle: the strongly connected components with more than one file, or a file importing itself. */
export function importCycles(graph) {
  let index = 0;
  const idx = new Map();
  const low = new Map();
  const stack = [];
  const on = new Set();
  const out = [];
  const visit = (v) => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    on.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v), low.get(w)));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v), idx.get(w)));
    }
    if (low.get(v) === idx.get(v)) {
      const scc = [];
      let w;
      do {
        w = stack.pop();
        on.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1 || (graph.get(v) ?? []).includes(v)) out.push(scc.sort());
    }
  };
  for (const v of graph.keys()) if (!idx.has(v)) visit(v);
  return out;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const cycles = importCycles(importGraph());
  for (const c of cycles) console.log(`import circle: ${c.join(' ↔ ')}`);
  console.log(cycles.length ? `${cycles.length} import circle(s)` : 'no import circle');
  process.exit(cycles.length ? 1 : 0);
}

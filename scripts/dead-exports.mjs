#!/usr/bin/env node
// Lists exports that no other file imports (`node scripts/dead-exports.mjs`; exit 1 when there are any
// outside ALLOWED, or when an ALLOWED entry is no longer dead: the list only shrinks).
// Uses the TypeScript checker over tsconfig.json: an import (named, default, re-export, `import type`,
// `typeof import(...)`) marks the symbol it resolves to as used, through any chain of re-exports.
// Conservative where names are not static: a namespace import (`import * as x`) or a dynamic `import()`
// marks every export of its module used. Entry points keep all their exports (see ENTRY_POINTS).
import ts from 'typescript';
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** Public entry points: what the package, Temporal, Lambda, the CDK app and the build load by path or name. */
const ENTRY_POINTS = [
  /^workflows\/index\.ts$/, // the workflow bundle: Temporal calls workflows by their exported names
  /^cli\/(run|main|lambda-handler)\.ts$/,
  /^lab\/main\.ts$/,
  /^worker\/build-bundle\.ts$/,
  /^deploy\//,
  /^bench\/run\.ts$/,
  /^vitest\.config\.ts$/,
  /^test\//, // test files export nothing anyone needs; their helpers are covered by their importers
];

const WORKFLOW_CONTRACT = "a workflow's input/result type: the contract of a workflow Temporal starts by name (kept for callers and readers)";
const OTHER_HELPER = 'in a file another engineer was changing when dead exports were removed (issue 17): drop the export keyword next time the file is touched';
/** Exports no other file imports that stay exported, each with why (`path name`). */
export const ALLOWED = {
  'cli/commands/demo-failback.ts demoFailbackStage': 'loaded by name by demo.ts (optionalStage: a dynamic import of a computed path)',
  'cli/commands/demo-recovery.ts demoRecoveryStage': 'loaded by name by demo.ts (optionalStage: a dynamic import of a computed path)',
  'workflows/backups.workflow.ts BackupList': WORKFLOW_CONTRACT,
  'workflows/failover-chunk.workflow.ts FailoverChunkResult': WORKFLOW_CONTRACT,
  'activities/write-governor.ts GovernorObserver': OTHER_HELPER,
  'workflows/failback-phase.ts PhaseOptions': OTHER_HELPER,
  'workflows/failback.run.ts ItemStatus': OTHER_HELPER,
  'lab/http/admin-routes.ts AdminDeps': OTHER_HELPER,
  'lab/http/aws-protocol.ts SigV4Scope': OTHER_HELPER,
  'lab/http/lab-request.ts LabRoute': OTHER_HELPER,
  'lab/iam/enforcer.ts IamDenial': OTHER_HELPER,
  'lab/iam/enforcer.ts IamRecordEntry': OTHER_HELPER,
  'lab/iam/enforcer.ts IamRecord': OTHER_HELPER,
  'lab/iam/evaluate.ts Decision': OTHER_HELPER,
  'lab/iam/policy-files.ts PolicyBinding': OTHER_HELPER,
  'lab/iam/policy.ts CONDITION_OPERATORS': OTHER_HELPER,
  'lab/iam/policy.ts ConditionOperator': OTHER_HELPER,
  'lab/iam/policy.ts policyDocumentSchema': OTHER_HELPER,
  'lab/quotas.ts WRITE_TPS': OTHER_HELPER,
  'lab/quotas.ts QuotaGroup': OTHER_HELPER,
  'lab/state-file.ts StatefulParts': OTHER_HELPER,
};

/**
 * Exports no other file imports under `root` (its tsconfig.json), as `path:line name (value|type)`,
 * split into `dead` (not allowed) and `allowed`; `stale` lists ALLOWED entries that are not dead.
 */
export function deadExports(root = ROOT, allowed = ALLOWED) {
  const configPath = resolve(root, 'tsconfig.json');
  const config = ts.parseJsonConfigFileContent(ts.readConfigFile(configPath, ts.sys.readFile).config, ts.sys, root);
  const program = ts.createProgram(config.fileNames, config.options);
  const checker = program.getTypeChecker();
  const rel = (f) => relative(root, f).split('\\').join('/');
  const ours = program.getSourceFiles().filter((f) => !f.isDeclarationFile && !rel(f.fileName).startsWith('..') && !rel(f.fileName).includes('node_modules'));

  const used = new Set(); // symbols (after alias resolution) some other file imports
  const wholeModules = new Set(); // files whose every export counts as used
  const original = (s) => (s && s.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(s) : s);
  const moduleFileOf = (spec) => {
    const s = checker.getSymbolAtLocation(spec);
    return s?.valueDeclaration?.getSourceFile?.() ?? s?.declarations?.[0]?.getSourceFile?.();
  };

  for (const sf of ours) {
    const entry = ENTRY_POINTS.some((re) => re.test(rel(sf.fileName)));
    const visit = (node) => {
      if (ts.isImportDeclaration(node) && node.importClause) {
        const c = node.importClause;
        if (c.name) used.add(original(checker.getSymbolAtLocation(c.name)));
        const b = c.namedBindings;
        if (b && ts.isNamespaceImport(b)) {
          const f = moduleFileOf(node.moduleSpecifier);
          if (f) wholeModules.add(f.fileName);
        } else if (b) for (const el of b.elements) used.add(original(checker.getSymbolAtLocation(el.name)));
      } else if (ts.isExportDeclaration(node) && node.moduleSpecifier) {
        const f = moduleFileOf(node.moduleSpecifier);
        if (!node.exportClause) {
          // `export * from`: an entry point publishes all of them; elsewhere, importers of this file resolve through it.
          if (f && entry) wholeModules.add(f.fileName);
        } else if (ts.isNamedExports(node.exportClause)) {
          for (const el of node.exportClause.elements) {
            const s = checker.getExportSpecifierLocalTargetSymbol(el);
            if (entry) used.add(original(s));
          }
        }
      } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword && node.arguments[0]) {
        const f = moduleFileOf(node.arguments[0]);
        if (f) wholeModules.add(f.fileName);
      } else if (ts.isImportTypeNode(node)) {
        if (node.qualifier) {
          const s = checker.getSymbolAtLocation(ts.isIdentifier(node.qualifier) ? node.qualifier : node.qualifier.right);
          used.add(original(s));
        } else {
          const lit = node.argument.literal;
          const f = lit && moduleFileOf(lit);
          if (f) wholeModules.add(f.fileName);
        }
      }
      ts.forEachChild(node, visit);
    };
    visit(sf);
    if (entry) wholeModules.add(sf.fileName);
  }

  const dead = [];
  for (const sf of ours) {
    if (wholeModules.has(sf.fileName)) continue;
    const moduleSymbol = checker.getSymbolAtLocation(sf);
    if (!moduleSymbol) continue;
    for (const exp of checker.getExportsOfModule(moduleSymbol)) {
      const target = original(exp);
      if (used.has(target) || used.has(exp)) continue;
      // Re-exports of another module's symbol are reported where they are declared, not here.
      const decl = target.declarations?.[0];
      if (!decl || decl.getSourceFile() !== sf) continue;
      const { line } = sf.getLineAndCharacterOfPosition(decl.getStart());
      const kind = target.flags & ts.SymbolFlags.Value ? 'value' : 'type';
      dead.push(`${rel(sf.fileName)}:${line + 1} ${exp.getName()} (${kind})`);
    }
  }
  const found = new Map(dead.sort().map((d) => [d.replace(/:\d+ (\S+) .*$/, ' $1'), d]));
  return {
    dead: [...found].filter(([key]) => !(key in allowed)).map(([, d]) => d),
    allowed: [...found].filter(([key]) => key in allowed).map(([, d]) => d),
    stale: Object.keys(allowed).filter((key) => !found.has(key)),
  };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { dead, allowed, stale } = deadExports();
  for (const d of dead) console.log(d);
  for (const s of stale) console.log(`${s}: allowed in scripts/dead-exports.mjs but imported now (remove it from ALLOWED)`);
  console.error(`${dead.length} export(s) that no other file imports; ${allowed.length} more allowed with a reason (ALLOWED in scripts/dead-exports.mjs)`);
  process.exitCode = dead.length + stale.length > 0 ? 1 : 0;
}

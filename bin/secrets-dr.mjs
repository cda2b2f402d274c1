#!/usr/bin/env node
// The installed command: runs the built CLI (npm run build; the Quickstart commands build it for you).
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const entry = fileURLToPath(new URL('../dist/cli/run.js', import.meta.url));
if (!existsSync(entry)) {
  process.stderr.write('secrets-dr is not built yet: run `npm run bootstrap` (or `npm run build`) in the secrets-dr directory.\n');
  process.exit(1);
}
await import(pathToFileURL(entry).href);

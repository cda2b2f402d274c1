import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../support/cli-run.js';
import { beforeAll, describe, expect, it } from 'vitest';

// The built CLI, as a user runs it; nothing here reaches Temporal (every case is refused before).
const dir = mkdtempSync(join(tmpdir(), 'secrets-dr-backups-cli-'));
const run = (args: string[], env: Record<string, string> = {}) =>
  runCli(args, { cwd: dir, env: { TEMPORAL_ADDRESS: '127.0.0.1:1', ...env }, timeoutMs: 60_000 });
const noStack = (text: string) => expect(text).not.toMatch(/\n\s+at .+:\d+:\d+/);

beforeAll(() => {
  if (!existsSync(new URL('../../dist/cli/run.js', import.meta.url))) throw new Error('dist/ is missing: run `npm run build` (npm test does it for you)');
  writeFileSync(
    join(dir, 'secrets-dr.yaml'),
    'name: payments\nprimaryRegion: ap-northeast-1\ndrRegions: [{ region: ap-northeast-3 }]\nsecrets: { include: [{ prefix: prod/ }] }\n',
  );
});

describe('secrets-dr backups: bad input is a clear error naming the field (exit 2)', { timeout: 60_000 }, () => {
  it.each([
    ['prune without --older-than', ['backups', 'prune'], /--older-than: missing \(required: a duration such as 30d/],
    ['prune with a duration that is not one', ['backups', 'prune', '--older-than', 'a month'], /--older-than: expected a positive duration such as 30d/],
    ['restore without a name', ['backups', 'restore', '--yes'], /expected exactly one BACKUP_NAME/],
    ['restore with a Region that is not one', ['backups', 'restore', 'x', '--yes', '--region', 'mars'], /--region: expected a Region name/],
    [
      'restore without --yes or --dry-run',
      ['backups', 'restore', 'secrets-dr-backup/payments/prod/db/2026-12-02T050000Z'],
      /See what would change with --dry-run; run again with --yes/,
    ],
    [
      'a price override that is not a number',
      ['backups', 'list'],
      /SECRETS_DR_PRICE_SECRET_MONTH: must be a number of US dollars ≥ 0/,
      { SECRETS_DR_PRICE_SECRET_MONTH: 'cheap' },
    ],
  ] as Array<[string, string[], RegExp, Record<string, string>?]>)('%s', async (_name, args, message, env = {}) => {
    const r = await run(args, env);
    expect(r.err).toMatch(message);
    expect(r.code).toBe(2);
    noStack(r.err);
  });
});

/** The typed-Region confirmation and what it shows, without Temporal (the pty test drives the real CLI). */
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { OperatorError } from '../../domain/errors.js';
import type { StatusReport } from '../../domain/status.js';
import { parsePlanText } from '../../cli/plan-file.js';
import { confirmByRegion, shouldConfirm } from '../../cli/confirm.js';
import { accountFailoverConfirmLines, setupConfirmLines, setupMayOverwrite, setupOverwrites } from '../../cli/confirm-previews.js';
import { accountFailoverPreview } from '../../domain/account-dr.js';

const REGION_FAILOVER = { action: 'fail over to ap-northeast-3', regions: ['ap-northeast-3'], preview: ['3 replica(s) become standalone'] };

/** Runs the confirmation `c` with `typed` as the operator's input (undefined: stdin closes). */
async function answer(typed: string | undefined, c: Parameters<typeof confirmByRegion>[1] = REGION_FAILOVER): Promise<{ error?: unknown; shown: string }> {
  const input = new PassThrough();
  const output = new PassThrough();
  let shown = '';
  output.on('data', (d) => (shown += String(d)));
  const done = confirmByRegion({ color: false }, c, { input, output });
  setImmediate(() => (typed === undefined ? input.end() : input.write(`${typed}\n`)));
  try {
    await done;
    return { shown };
  } catch (error) {
    return { error, shown };
  }
}

describe('confirmation by typing the Region', () => {
  it('asks only on a terminal and without --yes', () => {
    expect(shouldConfirm(false, { isTTY: true })).toBe(true);
    expect(shouldConfirm(true, { isTTY: true })).toBe(false);
    expect(shouldConfirm(false, { isTTY: false })).toBe(false);
    expect(shouldConfirm(false, {})).toBe(false);
  });

  it('the Region typed (spaces forgiven) confirms, after the preview was shown', async () => {
    const r = await answer('  ap-northeast-3 ');
    expect(r.error).toBeUndefined();
    expect(r.shown).toContain('3 replica(s) become standalone');
    expect(r.shown).toContain('type the Region (ap-northeast-3)');
  });

  it.each([
    ['another Region', 'ap-northeast-1', '"ap-northeast-1" is not ap-northeast-3'],
    ['yes', 'yes', '"yes" is not ap-northeast-3'],
    ['nothing', '', 'an empty answer'],
    ['end of input', undefined, 'no answer'],
  ])('%s aborts with exit 2', async (_what, typed, said) => {
    const r = await answer(typed);
    expect(r.error).toBeInstanceOf(OperatorError);
    expect((r.error as OperatorError).exitCode).toBe(2);
    expect((r.error as OperatorError).message).toContain(`aborted (${said}): nothing was started`);
  });
});

describe('account failover confirmation', () => {
  const { plan } = parsePlanText(
    `name: p\nprimaryRegion: ap-northeast-1\ndrRegions: [{ region: ap-northeast-3 }]\nsecrets: { include: [{ prefix: prod/ }] }\n` +
      `recoveryAccounts:\n  - { accountId: "210987654321", roleArn: "arn:aws:iam::210987654321:role/r", kmsKeyId: alias/k }\n`,
  );
  const preview = (reach: 'answers' | 'denied') =>
    accountFailoverPreview(
      {
        plan: 'p',
        accountId: '210987654321',
        region: 'ap-northeast-1',
        primaryAccount: { reach },
        recoveryAccount: { reach: 'answers' },
        secrets: [
          { name: 'prod/a', replica: 'replica', primaryView: 'InSync' },
          { name: 'prod/b', replica: 'absent' },
        ],
      },
      plan!,
      reach === 'denied' ? 'unplanned' : undefined,
    );

  it('shows what the dry run found (fence first when the primary answers; as they stand when it does not) and the gate', () => {
    const planned = accountFailoverConfirmLines(preview('answers'), plan!, false);
    expect(planned).toContain('  210987654321: 1 replica(s) become standalone secrets, 0 already standalone, 1 without a replica (of 2)');
    expect(planned).toContain('  primary account: 1 secret(s) fenced first (deny-writes resource policy), then detached');
    expect(planned.join('\n')).toContain('secrets-dr approve secrets-dr/p/account/210987654321/failover');
    const revoked = accountFailoverConfirmLines(preview('denied'), plan!, true);
    expect(revoked).toContain('  primary account: denied — promoted as they stand, not fenced, not detached');
    expect(revoked).toContain('  approval: given now (--approve)');
    expect(revoked.join('\n')).toMatch(/RPO unknown/);
  });

  it('asks for the account id, and a wrong one aborts naming what to type', async () => {
    const r = await answer('123456789012', {
      action: 'fail over to account 210987654321',
      regions: ['210987654321'],
      noun: 'the recovery account id',
      preview: [],
    });
    expect(r.shown).toContain('type the recovery account id (210987654321)');
    expect(r.error).toBeInstanceOf(OperatorError);
    expect((r.error as OperatorError).message).toContain('Type the recovery account id exactly');
  });
});

describe('setup confirmation', () => {
  const plan = (conflicts: string) => {
    const { plan: p } = parsePlanText(
      `name: p\nprimaryRegion: ap-northeast-1\ndrRegions: [{ region: ap-northeast-3 }]\nsecrets: { include: [{ prefix: prod/ }] }\nconflicts:\n${conflicts}`,
    );
    return p!;
  };
  const status: StatusReport = {
    plan: 'p',
    primaryRegion: 'ap-northeast-1',
    drRegions: ['ap-northeast-3'],
    generatedAt: '2026-12-02T00:00:00Z',
    regions: [],
    rows: [
      { name: 'prod/a', cells: { 'ap-northeast-1': { state: 'primary' }, 'ap-northeast-3': { state: 'conflict' } } },
      { name: 'prod/keep/b', cells: { 'ap-northeast-1': { state: 'primary' }, 'ap-northeast-3': { state: 'conflict' } } },
      { name: 'prod/c', cells: { 'ap-northeast-1': { state: 'primary' }, 'ap-northeast-3': { state: 'missing' } } },
    ],
    counts: { 'ap-northeast-3': { conflict: 2, missing: 1 } },
    attention: 3,
  };

  it('is asked only when a conflict policy replaces same-named secrets, and names those secrets per Region', () => {
    expect(setupMayOverwrite(plan('  policy: skip\n'))).toBe(false);
    expect(setupMayOverwrite(plan('  policy: ask\n'))).toBe(false);
    const p = plan('  policy: backup-then-overwrite\n  overrides: [{ match: { prefix: prod/keep/ }, policy: skip }]\n');
    expect(setupMayOverwrite(p)).toBe(true);
    const overwrites = setupOverwrites(p, status);
    expect(overwrites).toEqual([{ region: 'ap-northeast-3', secrets: [{ name: 'prod/a', policy: 'backup-then-overwrite' }] }]);
    const text = setupConfirmLines(p, status, overwrites).join('\n');
    expect(text).toContain('ap-northeast-3: 1 same-named secret(s) that are not our replicas would be replaced');
    expect(text).toContain('prod/a (backup-then-overwrite: backed up first)');
    expect(text).toMatch(/expected time from the quota: at least \S+ \(3 secret\(s\) to replicate/);
  });

  it('counts every conflict when a tag-selected override overwrites (tags are not in the status read)', () => {
    const p = plan('  policy: skip\n  overrides: [{ match: { tag: { key: t, value: "1" } }, policy: adopt }]\n');
    expect(setupOverwrites(p, status)[0]!.secrets.map((s) => s.name)).toEqual(['prod/a', 'prod/keep/b']);
  });
});

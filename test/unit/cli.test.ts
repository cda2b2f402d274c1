import { copyFileSync, existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../support/cli-run.js';
import { beforeAll, describe, expect, it } from 'vitest';

// The built CLI, as a user runs it (npm test builds first through scripts/bootstrap.mjs).
const dir = mkdtempSync(join(tmpdir(), 'secrets-dr-cli-'));

const run = (args: string[], env: Record<string, string> = {}) => runCli(args, { cwd: dir, env });

const noStack = (text: string) => expect(text).not.toMatch(/\n\s+at .+:\d+:\d+/);

beforeAll(() => {
  if (!existsSync(new URL('../../dist/cli/run.js', import.meta.url))) throw new Error('dist/ is missing: run `npm run build` (npm test does it for you)');
  writeFileSync(
    join(dir, 'broken.yaml'),
    'name: payments\nprimaryRegion: mars-1\ndrRegions: [{ region: ap-northeast-3, kms: x }]\nsecrets: { include: [] }\nfailover: { writeQuotaShare: 3 }\n',
  );
  copyFileSync(new URL('../fixtures/alias-bomb.yaml', import.meta.url), join(dir, 'bomb.yaml'));
  const good = 'name: payments\nprimaryRegion: ap-northeast-1\ndrRegions: [{ region: ap-northeast-3 }]\nsecrets: { include: [{ prefix: prod/ }] }\n';
  writeFileSync(
    join(dir, 'wrong-types.yaml'),
    good.replace('ap-northeast-1', '12') + 'failover: { automatic: "yes" }\nhealth: { unhealthyAfter: "3", interval: 60 }\n',
  );
  writeFileSync(
    join(dir, 'trigger-happy.yaml'),
    `${good}failover: { automatic: true, approvalTimeout: 0s, vetoWindow: 0s }\nhealth: { interval: 1s, unhealthyAfter: 1 }\ndrills: { schedule: "every saturday" }\n`,
  );
  writeFileSync(
    join(dir, 'secrets-dr.yaml'),
    'name: payments\nprimaryRegion: ap-northeast-1\ndrRegions: [{ region: ap-northeast-3 }]\nsecrets: { include: [{ prefix: prod/ }] }\n',
  );
});

describe('the secrets-dr command', () => {
  it('plan validate lists every bad field with its path and exits 2', async () => {
    const r = await run(['plan', 'validate', '-f', 'broken.yaml']);
    expect(r.code).toBe(2);
    expect(r.err).toContain('primaryRegion: unknown AWS Region "mars-1"');
    expect(r.err).toContain('drRegions[0].kms: unknown field "kms"');
    expect(r.err).toContain('secrets.include: list at least one selector');
    expect(r.err).toContain('failover.writeQuotaShare: writeQuotaShare must be at most 1');
    noStack(r.err);
  });

  it('plan validate --json gives the problems as data', async () => {
    const r = await run(['plan', 'validate', '-f', 'broken.yaml', '--json']);
    expect(r.code).toBe(2);
    const doc = JSON.parse(r.out) as { error: { problems: Array<{ path: string }> } };
    expect(doc.error.problems.map((p) => p.path)).toContain('primaryRegion');
  });

  it('plan validate accepts a good plan (default file name)', async () => {
    const r = await run(['plan', 'validate']);
    expect(r.code).toBe(0);
    expect(r.out).toContain('valid plan "payments"');
  });

  it('a missing plan file is one clear line and exit 2', async () => {
    const r = await run(['status', '-f', 'nope.yaml']);
    expect(r.code).toBe(2);
    expect(r.err.trim().split('\n')).toHaveLength(1);
    expect(r.err).toMatch(/cannot read plan file .*nope\.yaml: no such file/);
  });

  it('an unreachable Temporal server is one clear line and exit 1', async () => {
    const r = await run(['status'], { TEMPORAL_ADDRESS: '127.0.0.1:1' });
    expect(r.code).toBe(1);
    expect(r.err.trim().split('\n')).toHaveLength(1);
    expect(r.err).toMatch(/cannot reach the Temporal server at 127\.0\.0\.1:1/);
    noStack(r.err);
  }, 30_000);

  it('an unknown command or option is a usage error (exit 2)', async () => {
    expect((await run(['frobnicate'])).code).toBe(2);
    const r = await run(['status', '--frob']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/Unknown option '--frob'/);
    noStack(r.err);
  });

  it('lab lambda create and lab fault rotation-stall check their options before calling the lab (exit 2, every field named)', async () => {
    const r = await run(['lab', 'lambda', 'create', '--region', 'mars-1', '--kind', 'rotation-magic', '--step-delay', 'soon'], {
      SECRETS_DR_LAB_URL: 'http://127.0.0.1:1',
    });
    expect(r.code).toBe(2);
    expect(r.err).toContain('--region: unknown AWS Region "mars-1"');
    expect(r.err).toContain('--name: missing (needs --name N)');
    expect(r.err).toContain('--kind: expected one of rotation-single-user, rotation-alternating-users');
    expect(r.err).toContain('--step-delay: expected milliseconds (a non-negative number)');
    noStack(r.err);
    const stall = await run(['lab', 'fault', 'rotation-stall', '--region', 'ap-northeast-1', '--step', 'finish'], { SECRETS_DR_LAB_URL: 'http://127.0.0.1:1' });
    expect(stall.code).toBe(2);
    expect(stall.err).toContain('--step: expected one of createSecret, setSecret, testSecret, finishSecret');
    const down = await run(['lab', 'lambda', 'list'], { SECRETS_DR_LAB_URL: 'http://127.0.0.1:1' });
    expect(down.code).toBe(1);
    expect(down.err).toMatch(/the lab at http:\/\/127\.0\.0\.1:1 does not answer/);
  }, 30_000);

  it('bad configuration in the environment names the variable', async () => {
    const r = await run(['status'], { SECRETS_DR_REGIONS: 'ap-northeast-1,mars-2' });
    expect(r.code).toBe(2);
    expect(r.err).toContain('SECRETS_DR_REGIONS: unknown AWS Region "mars-2"');
  });

  it('plan schema prints a JSON Schema', async () => {
    const r = await run(['plan', 'schema']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ type: 'object', title: expect.stringContaining('secrets-dr') });
  });

  it('a YAML alias bomb in the plan is exit 2 with a clear message, not an internal error', async () => {
    for (const args of [
      ['plan', 'validate', '-f', 'bomb.yaml'],
      ['status', '-f', 'bomb.yaml'],
      ['plan', 'validate', '-f', 'bomb.yaml', '--json'],
    ]) {
      const r = await run(args);
      expect(r.code, args.join(' ')).toBe(2);
      const text = r.err + r.out;
      expect(text).toMatch(/plan file .*bomb\.yaml is invalid/);
      expect(text).toMatch(/\(yaml\)[\s\S]*Excessive alias count[\s\S]*write the values out/);
      expect(text).not.toMatch(/internal error/);
      noStack(text);
    }
  }, 60_000);

  it('a field of the wrong type says "expected X, got Y", not "missing"', async () => {
    const r = await run(['plan', 'validate', '-f', 'wrong-types.yaml']);
    expect(r.code).toBe(2);
    expect(r.err).toContain('primaryRegion: expected an AWS Region name such as "ap-northeast-3", got the number 12');
    expect(r.err).toContain('failover.automatic: expected true or false, got the text "yes"; write true or false, without quotes');
    expect(r.err).toContain('health.unhealthyAfter: expected a number, got the text "3"; write it without quotes: 3');
    expect(r.err).toContain('health.interval: expected a duration such as "60s", got the number 60; add a unit');
    expect(r.err).not.toMatch(/missing/);
    noStack(r.err);
  }, 30_000);

  it('a plan that makes automatic recovery trigger-happy is refused (exit 2), naming each field, expected, got and what to do', async () => {
    const r = await run(['plan', 'validate', '-f', 'trigger-happy.yaml']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/health\.interval: expected at least 5s when failover\.automatic is true, got 1s: .*set failover\.automatic: false/);
    expect(r.err).toMatch(/health\.unhealthyAfter: expected at least 2 when failover\.automatic is true, got 1/);
    expect(r.err).toMatch(/failover\.vetoWindow: expected at least 5s, got 0ms/);
    expect(r.err).toMatch(/failover\.approvalTimeout: expected at least 1s, got 0ms/);
    expect(r.err).toMatch(/drills\.schedule: expected a cron expression such as "0 3 \* \* 6" .*got "every saturday": it has 2 fields/);
    noStack(r.err);
  }, 30_000);
});

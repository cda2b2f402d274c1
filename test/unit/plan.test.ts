import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parsePlanText } from '../../cli/plan-file.js';
import { PlanSchema, writeShareText } from '../../domain/plan.js';
import { z } from 'zod';

const canonical = readFileSync(new URL('../fixtures/canonical-plan.yaml', import.meta.url), 'utf8');
const minimal = `name: payments\nprimaryRegion: ap-northeast-1\ndrRegions: [{ region: ap-northeast-3 }]\nsecrets: { include: [{ prefix: prod/ }] }\n`;

function problemsOf(text: string) {
  const { plan, problems } = parsePlanText(text);
  expect(plan).toBeUndefined();
  return Object.fromEntries(problems.map((p) => [p.path, p.message]));
}

describe('the plan file', () => {
  it('accepts the canonical example of DESIGN.md as written', () => {
    const { plan, problems } = parsePlanText(canonical);
    expect(problems).toEqual([]);
    expect(plan?.name).toBe('payments');
    expect(plan?.drRegions).toEqual([{ region: 'ap-northeast-3', kmsKeyId: 'alias/payments-dr' }]);
    expect(plan?.conflicts.approvalTimeout).toBe(30 * 60_000);
    expect(plan?.failover.groups[0]?.name).toBe('tier0');
    expect(plan?.health.interval).toBe(60_000);
  });

  it('keeps the fixture identical to the example in ../shared/DESIGN.md (when shared/ is beside the repo)', (ctx) => {
    const design = new URL('../../../shared/DESIGN.md', import.meta.url);
    if (!existsSync(design)) return ctx.skip('shared/DESIGN.md not beside this checkout');
    const block = /```yaml\n(# secrets-dr\.yaml[\s\S]*?)```/.exec(readFileSync(design, 'utf8'))?.[1];
    expect(block).toBe(canonical);
  });

  it('fills safe defaults for everything but name, Regions and secrets', () => {
    const { plan } = parsePlanText(minimal);
    expect(plan).toMatchObject({
      conflicts: { policy: 'backup-then-overwrite', approvalTimeout: 1_800_000 },
      failover: { mode: 'planned', automatic: false, requireApproval: true, writeQuotaShare: 0.6, fence: true, minDelayBetweenFailovers: 1_800_000 },
      failback: { onOriginalChanged: 'keep-dr', onBothChanged: 'ask' },
      health: { interval: 60_000, unhealthyAfter: 3, alarms: [] },
      drills: { canaries: 3, rtoTarget: 300_000, useProductionSecrets: false },
      events: { bus: 'default' },
      rotation: {},
    });
  });

  it('names every bad field with its path, all at once', () => {
    const problems = problemsOf(`
name: "pay ments"
primaryRegion: mars-north-1
drRegions:
  - region: ap-northeast-3
    kmsKey: alias/x
secrets:
  include:
    - prefx: prod/
failover:
  writeQuotaShare: 1.5
  approvalTimeout: soon
conflicts:
  policy: yolo
`);
    expect(Object.keys(problems).sort()).toEqual(
      ['conflicts.policy', 'drRegions[0].kmsKey', 'failover.approvalTimeout', 'failover.writeQuotaShare', 'name', 'primaryRegion', 'secrets.include[0]'].sort(),
    );
    expect(problems['primaryRegion']).toMatch(/unknown AWS Region "mars-north-1"/);
    expect(problems['drRegions[0].kmsKey']).toMatch(/unknown field "kmsKey"/);
    expect(problems['failover.approvalTimeout']).toMatch(/"soon" is not a duration/);
    expect(problems['failover.writeQuotaShare']).toMatch(/at most 1/);
  });

  it('reports missing required fields', () => {
    const problems = problemsOf('name: payments\n');
    expect(Object.keys(problems).sort()).toEqual(['drRegions', 'primaryRegion', 'secrets']);
  });

  it('rejects a DR Region equal to the primary, duplicates, and rotation Lambdas in the wrong Region', () => {
    const problems =
      problemsOf(`${minimal.replace('drRegions: [{ region: ap-northeast-3 }]', 'drRegions: [{ region: ap-northeast-1 }, { region: ap-northeast-3 }, { region: ap-northeast-3 }]')}
rotation:
  ap-northeast-3: arn:aws:lambda:us-east-1:123456789012:function:rotate
  eu-west-1: arn:aws:lambda:eu-west-1:123456789012:function:rotate
`);
    expect(problems['drRegions[0].region']).toMatch(/is the primary Region/);
    expect(problems['drRegions[2].region']).toMatch(/listed twice/);
    expect(problems['rotation.ap-northeast-3']).toMatch(/must live in ap-northeast-3/);
    expect(problems['rotation.eu-west-1']).toMatch(/not in the plan/);
  });

  it('reports YAML syntax errors with their line', () => {
    const { problems } = parsePlanText('name: payments\ndrRegions: [\n  - oops');
    expect(problems[0]?.path).toMatch(/^line \d+:\d+$/);
  });

  it('exports a JSON Schema of the plan as written (durations as text)', () => {
    const schema = z.toJSONSchema(PlanSchema, { io: 'input', unrepresentable: 'any' }) as { required?: string[]; properties?: Record<string, unknown> };
    expect(schema.required?.sort()).toEqual(['drRegions', 'name', 'primaryRegion', 'secrets']);
    expect(JSON.stringify(schema.properties?.conflicts)).toContain('backup-then-overwrite');
  });
});

const bomb = readFileSync(new URL('../fixtures/alias-bomb.yaml', import.meta.url), 'utf8');

describe('plan input that used to crash or mislead', () => {
  it('writeQuotaShare: a fixed number, or auto capped by writeQuotaShareMax (default 0.9); estimates read the cap from writeQuotaShare', () => {
    expect(parsePlanText(minimal).plan!.failover).toMatchObject({ writeQuotaShare: 0.6, writeQuotaShareMode: 'fixed' });
    const withFailover = (yaml: string) => `${minimal}failover: ${yaml}\n`;
    expect(parsePlanText(withFailover('{ writeQuotaShare: 0.4 }')).plan!.failover).toMatchObject({ writeQuotaShare: 0.4, writeQuotaShareMode: 'fixed' });
    expect(parsePlanText(withFailover('{ writeQuotaShare: auto }')).plan!.failover).toMatchObject({ writeQuotaShare: 0.9, writeQuotaShareMode: 'auto' });
    expect(parsePlanText(withFailover('{ writeQuotaShare: auto, writeQuotaShareMax: 0.7 }')).plan!.failover).toMatchObject({
      writeQuotaShare: 0.7,
      writeQuotaShareMode: 'auto',
    });
    expect(problemsOf(withFailover('{ writeQuotaShare: 0.5, writeQuotaShareMax: 0.7 }'))).toEqual({
      'failover.writeQuotaShareMax':
        'writeQuotaShareMax caps writeQuotaShare: auto, but writeQuotaShare is the fixed 0.5; remove writeQuotaShareMax, or write writeQuotaShare: auto',
    });
    expect(problemsOf(withFailover('{ writeQuotaShare: auto, writeQuotaShareMax: 1.5 }'))).toEqual({
      'failover.writeQuotaShareMax': 'writeQuotaShareMax must be at most 1 (the whole 50 TPS write quota)',
    });
    // Previews and `plan show` say which: the fixed rate, or auto's cap (the one every estimate uses).
    expect(writeShareText(parsePlanText(minimal).plan!.failover)).toBe("30 writes/s = writeQuotaShare 0.6 of the Region's 50 TPS");
    expect(writeShareText(parsePlanText(withFailover('{ writeQuotaShare: auto }')).plan!.failover)).toBe(
      "up to 45 writes/s = writeQuotaShare auto, capped at 0.9 of the Region's 50 TPS (backs off while throttled; estimates use the cap)",
    );
    expect(problemsOf(withFailover('{ writeQuotaShare: automatic }'))['failover.writeQuotaShare']).toMatch(
      /^expected a number between 0 and 1 .* or auto, got the text "automatic"/,
    );
  });

  it('a YAML alias bomb is a problem of the plan, not a throw', () => {
    let out: ReturnType<typeof parsePlanText> | undefined;
    expect(() => (out = parsePlanText(bomb))).not.toThrow();
    expect(out!.plan).toBeUndefined();
    expect(out!.problems).toEqual([{ path: '(yaml)', message: expect.stringMatching(/Excessive alias count.*write the values out/) }]);
  });

  it('a field of the wrong type says what was expected and what it got, not "missing"', () => {
    const problems = problemsOf(`name: payments
primaryRegion: 12
drRegions: [{ region: ap-northeast-3 }]
secrets: { include: [{ prefix: prod/ }] }
failover: { automatic: "yes", writeQuotaShare: "0.5" }
health: { unhealthyAfter: "3", interval: 60 }
`);
    expect(problems).toEqual({
      primaryRegion: 'expected an AWS Region name such as "ap-northeast-3", got the number 12',
      'failover.automatic': 'expected true or false, got the text "yes"; write true or false, without quotes',
      'failover.writeQuotaShare':
        'expected a number between 0 and 1 (share of the 50 TPS write quota) or auto, got the text "0.5"; write it without quotes: 0.5',
      'health.unhealthyAfter': 'expected a number, got the text "3"; write it without quotes: 3',
      'health.interval': 'expected a duration such as "60s", got the number 60; add a unit: "60s", "60m" or "60ms"',
    });
    for (const message of Object.values(problems)) expect(message).not.toMatch(/missing/);
    // A field that is really absent still says so.
    expect(problemsOf('name: payments\nprimaryRegion: ap-northeast-1\nsecrets: { include: [{ prefix: p/ }] }\n').drRegions).toMatch(/^missing \(/);
    // A whole section of the wrong type, and a bad enum value, name what they got too.
    const more = problemsOf(`${minimal}failover: 3\nconflicts: { policy: yolo }\n`);
    expect(more['failover']).toBe('expected a mapping (key: value), got the number 3');
    expect(more['conflicts.policy']).toMatch(/^expected one of .*"backup-then-overwrite".*, got the text "yolo"$/);
  });

  it('refuses settings that make automatic recovery trigger-happy, each with its path, expected, got and what to do', () => {
    const problems = problemsOf(`${minimal}failover: { automatic: true, approvalTimeout: 0s, vetoWindow: 0s }
health: { interval: 200ms, unhealthyAfter: 1 }
conflicts: { approvalTimeout: 0ms }
failback: { approvalTimeout: 0m }
drills: { schedule: "0 25 * * 6" }
`);
    expect(Object.keys(problems).sort()).toEqual([
      'conflicts.approvalTimeout',
      'drills.schedule',
      'failback.approvalTimeout',
      'failover.approvalTimeout',
      'failover.vetoWindow',
      'health.interval',
      'health.unhealthyAfter',
    ]);
    expect(problems['health.interval']).toMatch(
      /^expected at least 5s when failover\.automatic is true, got 200ms: .*write e\.g\. "60s", or set failover\.automatic: false$/,
    );
    expect(problems['health.unhealthyAfter']).toMatch(/^expected at least 2 when failover\.automatic is true, got 1: .*set failover\.automatic: false$/);
    expect(problems['failover.vetoWindow']).toMatch(/^expected at least 5s, got 0ms: nobody can veto/);
    for (const p of ['conflicts.approvalTimeout', 'failover.approvalTimeout', 'failback.approvalTimeout'])
      expect(problems[p]).toMatch(/^expected at least 1s, got 0ms: .*write e\.g\. "30m"$/);
    expect(problems['drills.schedule']).toBe(
      'expected a cron expression such as "0 3 * * 6" (minute hour day-of-month month day-of-week, UTC), got "0 25 * * 6": field 2 (hour): 25 is out of range (0-23)',
    );
  });

  it('fast probes are fine without automatic failover; automatic with sane settings is fine', () => {
    expect(parsePlanText(`${minimal}health: { interval: 0ms, unhealthyAfter: 1 }\n`).problems).toEqual([]);
    expect(
      parsePlanText(`${minimal}failover: { automatic: true, vetoWindow: 5m }\nhealth: { interval: 5s, unhealthyAfter: 2 }\n`).plan?.failover.vetoWindow,
    ).toBe(300_000);
  });

  it('drills.schedule: every form Temporal accepts passes, each malformed one says which field and why', () => {
    const problem = (cron: string) => parsePlanText(`${minimal}drills: { schedule: "${cron}" }\n`).problems[0]?.message.replace(/^.*?got "[^"]*": /, '');
    for (const ok of [
      '0 3 * * 6',
      '*/15 * * * *',
      '0 9-17 * * MON-FRI',
      '0,30 * 1 jan,jul *',
      '0 3 * * 7',
      '0 0 3 * * 6 2030',
      '0 3 * * 6 2030',
      '@daily',
      '@every 1h',
      '@every 2h/30m',
      'CRON_TZ=Asia/Tokyo 0 3 * * 6',
      '0 3 * * 6 # weekly',
    ]) {
      expect(problem(ok), ok).toBeUndefined();
    }
    expect(problem('weekly')).toMatch(/^it has 1 field; expected 5 \(minute hour day-of-month month day-of-week\)/);
    expect(problem('0 3 * *')).toMatch(/^it has 4 fields/);
    expect(problem('0 3 * * 8')).toBe('field 5 (day-of-week): 8 is out of range (0-7)');
    expect(problem('60 3 * * 6')).toBe('field 1 (minute): 60 is out of range (0-59)');
    expect(problem('0 3 0 * 6')).toBe('field 3 (day-of-month): 0 is out of range (1-31)');
    expect(problem('*/0 * * * *')).toBe('field 1 (minute): the step in "*/0" must be a whole number of at least 1');
    expect(problem('5-1 * * * *')).toBe('field 1 (minute): the range "5-1" runs backwards');
    expect(problem('0 3 * JANX *')).toMatch(/^field 4 \(month\): "JANX" is neither a number \(1-12\) nor a name \(JAN, FEB/);
    expect(problem('@fortnightly')).toMatch(/^"@fortnightly" is not one of @yearly/);
    expect(problem('0 3 * * 6 1900')).toBe('field 6 (year): 1900 is out of range (1970-2999)');
  });
});

import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parsePlanText } from '../../cli/plan-file.js';
import { PlanSchema } from '../../domain/plan.js';
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
    const problems = problemsOf(`${minimal.replace('drRegions: [{ region: ap-northeast-3 }]', 'drRegions: [{ region: ap-northeast-1 }, { region: ap-northeast-3 }, { region: ap-northeast-3 }]')}
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

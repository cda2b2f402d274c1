import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { keptRecords, planCost } from '../../domain/cost.js';
import { PlanSchema } from '../../domain/plan.js';
import { BUILT_IN_PRICES, PRICES } from '../../domain/prices.js';
import { loadPrices } from '../../cli/prices-file.js';
import { OperatorError } from '../../domain/errors.js';

const plan = (extra: Record<string, unknown> = {}) =>
  PlanSchema.parse({
    name: 'payments',
    primaryRegion: 'ap-northeast-1',
    drRegions: [{ region: 'ap-northeast-3' }],
    secrets: { include: [{ prefix: 'prod/' }] },
    ...extra,
  });

const line = (c: ReturnType<typeof planCost>, item: string) => c.lines.find((l) => l.item === item)!;

describe('the monthly cost of a plan (AWS prices of domain/prices.ts)', () => {
  it('a 1,000-secret plan over 2 Regions, monitor every 60 s: $400 of replicas, 963,600 ListSecrets calls, the lineage records', () => {
    // Prepare: 1,000 secrets, primary + 1 DR Region, the HMAC key and its replica kept, 3 backups.
    const p = plan();
    // Act
    const cost = planCost(p, 1000, { backups: 3, lineage: 2 }, BUILT_IN_PRICES);
    // Assess: replicas 1,000 × 1 DR Region × $0.40.
    expect(line(cost, 'replicas')).toMatchObject({ quantity: 1000, monthlyUsd: 400 });
    // ⌈1000/100⌉+1 = 11 calls per Region per cycle × 2 Regions × 43,800 cycles (730 h at 60 s) = 963,600 → $4.818.
    expect(line(cost, 'monitor-calls')).toMatchObject({ quantity: 963_600, unit: 'api-call', monthlyUsd: 4.818 });
    expect(line(cost, 'backups')).toMatchObject({ quantity: 3, monthlyUsd: 1.2 });
    expect(line(cost, 'lineage-records')).toMatchObject({ quantity: 2, monthlyUsd: 0.8 });
    expect(cost.lines.some((l) => l.item === 'read-path-calls')).toBe(false);
    expect(cost.monthlyUsd).toBe(406.818);
    expect(cost.prices).toMatchObject({ asOf: PRICES.asOf, source: 'built-in' });
  });

  it('two DR Regions double the replicas; a 30 s interval doubles the monitor calls; the read-path cycle is priced when the plan has one', () => {
    const p = plan({ drRegions: [{ region: 'ap-northeast-3' }, { region: 'us-west-2' }], health: { interval: '30s', readPathInterval: '15m' } });
    const cost = planCost(p, 1000, { backups: 0, lineage: 3 }, BUILT_IN_PRICES);
    expect(line(cost, 'replicas')).toMatchObject({ quantity: 2000, monthlyUsd: 800 });
    expect(line(cost, 'monitor-calls').quantity).toBe(11 * 3 * 87_600);
    // 2 reads × 1,000 secrets × 2 DR Regions × 2,920 cycles (730 h at 15 min).
    expect(line(cost, 'read-path-calls')).toMatchObject({ quantity: 11_680_000, monthlyUsd: 58.4 });
  });

  it('counts the backups, the HMAC key (with its replicas) and the lineage/failback records of this plan only', () => {
    const inv = (region: string, names: string[]) => ({
      region,
      listCalls: 1,
      entries: names.map((name) => ({ name, arn: `arn:aws:secretsmanager:${region}:1:secret:${name}-AbCdEf` })),
    });
    const kept = keptRecords('payments', [
      inv('ap-northeast-1', ['secrets-dr/payments/hmac-key', 'secrets-dr-backup/payments/prod/a/20261201', 'secrets-dr-backup/orders/x/1', 'prod/a']),
      inv('ap-northeast-3', [
        'secrets-dr/payments/hmac-key',
        'secrets-dr-backup/payments/prod/a/20261202',
        'secrets-dr/payments/lineage/f1/0000-000',
        'secrets-dr/payments/failback/b1/ap-northeast-3',
        'secrets-dr/orders/lineage/x/1',
      ]),
      undefined,
    ]);
    expect(kept).toEqual({ backups: 2, lineage: 4 });
  });
});

describe('price overrides', () => {
  const dir = mkdtempSync(join(tmpdir(), 'prices-'));
  const file = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };

  it('a price file replaces the prices it names and keeps its date; the figures follow', () => {
    const prices = loadPrices(file('ok.json', JSON.stringify({ asOf: '2027-01-15', secretPerMonthUsd: 0.5 })), {});
    expect(prices).toMatchObject({ asOf: '2027-01-15', secretPerMonthUsd: 0.5, per10kApiCallsUsd: 0.05 });
    expect(line(planCost(plan(), 1000, { backups: 0, lineage: 0 }, prices), 'replicas').monthlyUsd).toBe(500);
  });

  it('SECRETS_DR_PRICES names the file when no flag is given', () => {
    const path = file('env.json', JSON.stringify({ asOf: '2027-02-01', per10kApiCallsUsd: 0.1 }));
    expect(loadPrices(undefined, { SECRETS_DR_PRICES: path })).toMatchObject({ per10kApiCallsUsd: 0.1, source: path });
  });

  it('a bad price file is refused naming the field, what was expected and the file', () => {
    const path = file('bad.json', JSON.stringify({ asOf: 'soon', secretPerMonthUsd: '0.4', extra: 1 }));
    let caught: unknown;
    try {
      loadPrices(path, {});
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(OperatorError);
    const e = caught as OperatorError;
    expect(e.message).toContain(path);
    const paths = e.problems.map((p) => p.path);
    expect(paths).toEqual(expect.arrayContaining(['asOf', 'secretPerMonthUsd']));
    expect(e.problems.find((p) => p.path === 'secretPerMonthUsd')!.message).toMatch(/US dollars/);
    expect(() => loadPrices(join(dir, 'missing.json'), {})).toThrow(/no such file/);
    expect(() => loadPrices(file('notjson.json', '{'), {})).toThrow(/price file/);
  });
});

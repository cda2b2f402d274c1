import { describe, expect, it } from 'vitest';
import { itemsOf, packItems, packNames, unpackNames, type FailbackItem } from '../../domain/failback.js';

const item = (name: string, extra: Partial<FailbackItem> = {}): FailbackItem => ({
  name,
  change: 'unchanged',
  resolution: 'replicate',
  status: 'verified',
  fenced: true,
  dr: 'ap-northeast-3',
  failoverId: '20261202T133125.579Z',
  ...extra,
});

describe('failback items in transit between the parent and its chunk children', () => {
  it('alike secrets travel as one template and their names; every field of every item comes back', () => {
    // Prepare: 500 alike secrets, two that differ (one copied back, one failed with a reason and a backup).
    const items = [
      ...Array.from({ length: 500 }, (_, k) => item(`bench/fleet/s${String(k).padStart(5, '0')}`)),
      item('a/copied', { change: 'dr-changed', resolution: 'copy-back', copiedBack: true }),
      item('a/failed', { status: 'failed', reason: 'replication to ap-northeast-3: Failed', backups: ['ap-northeast-3:secrets-dr-backup/p/a/x'] }),
    ];

    // Act
    const packed = packItems(items);
    const back = itemsOf({ items: [], packed });

    // Assess: three groups, no loss, and the packed form is a fraction of the list's size.
    expect(packed).toHaveLength(3);
    expect(new Map(back.map((i) => [i.name, i]))).toEqual(new Map(items.map((i) => [i.name, i])));
    expect(JSON.stringify(packed).length).toBeLessThan(JSON.stringify(items).length / 4);
  });

  it('key order does not split a group; a nested difference does', () => {
    const a = item('a', { rotationRules: { source: 'primary', rules: { AutomaticallyAfterDays: 30 } } });
    const { name: _n, ...rest } = item('b', { rotationRules: { source: 'primary', rules: { AutomaticallyAfterDays: 30 } } });
    const reordered = Object.fromEntries(Object.entries(rest).reverse()) as Omit<FailbackItem, 'name'>;
    const c = item('c', { rotationRules: { source: 'primary', rules: { AutomaticallyAfterDays: 7 } } });
    const packed = packItems([a, { ...reordered, name: 'b' }, c]);
    expect(packed.map((g) => g.names)).toEqual([['a', 'b'], ['c']]);
  });

  it('a child result recorded before packing (a plain list) is read as it was', () => {
    const items = [item('x'), item('y', { status: 'failed', reason: 'r' })];
    expect(itemsOf({ items })).toEqual(items);
    expect(itemsOf({})).toEqual([]);
  });

  it('record names share their prefix once and come back whole', () => {
    const names = ['secrets-dr/p/lineage/20261202T1/c0-b0', 'secrets-dr/p/lineage/20261202T1/c0-b1', 'secrets-dr/p/failback/20261203T1/0'];
    const p = packNames(names);
    expect(p.prefix).toBe('secrets-dr/p/');
    expect(unpackNames(p)).toEqual(names);
    expect(unpackNames(packNames([]))).toEqual([]);
  });
});

/** A large fleet's status and setup reports stay one small payload: what needs attention first, every secret counted. */
import { describe, expect, it } from 'vitest';
import { STATUS_ROWS_LIMIT, trimStatusReport, type StatusReport } from '../../domain/status.js';
import { listedOutcomes, SETUP_OUTCOMES_LIMIT, type SecretOutcome } from '../../domain/replication.js';

function report(healthy: number, broken: number): StatusReport {
  const rows: StatusReport['rows'] = [];
  for (let i = 0; i < healthy + broken; i++) {
    const bad = i % Math.ceil((healthy + broken) / Math.max(1, broken)) === 0 && rows.filter((r) => r.cells.dr!.state !== 'InSync').length < broken;
    rows.push({ name: `s${i}`, cells: { p: { state: 'primary' }, dr: { state: bad ? 'missing' : 'InSync' } } });
  }
  const missing = rows.filter((r) => r.cells.dr!.state === 'missing').length;
  return {
    plan: 'big',
    primaryRegion: 'p',
    drRegions: ['dr'],
    generatedAt: '2026-12-02T00:00:00.000Z',
    regions: [],
    rows,
    counts: { p: { primary: rows.length }, dr: { InSync: rows.length - missing, missing } },
    attention: missing,
  };
}

describe('status of a large fleet', () => {
  it('a fleet within the limit keeps every row', () => {
    const r = report(900, 100);
    expect(trimStatusReport(r)).toBe(r);
  });

  it('beyond the limit: only the rows that need attention, in order; counts and attention of the whole fleet', () => {
    const r = report(100_000 - 37, 37);
    const t = trimStatusReport(r);
    expect(t.rows).toHaveLength(37);
    expect(t.rows.every((row) => row.cells.dr!.state === 'missing')).toBe(true);
    expect(t.rows.map((row) => row.name)).toEqual(r.rows.filter((row) => row.cells.dr!.state === 'missing').map((row) => row.name));
    expect(t.omittedRows).toBe(100_000 - 37);
    expect([t.counts, t.attention]).toEqual([r.counts, 37]);
    expect(Buffer.byteLength(JSON.stringify(t))).toBeLessThan(256 * 1024);
  });

  it('more rows needing attention than the limit: the first STATUS_ROWS_LIMIT of them, the rest counted as omitted', () => {
    const t = trimStatusReport(report(0, 5_000));
    expect(t.rows).toHaveLength(STATUS_ROWS_LIMIT);
    expect(t.omittedRows).toBe(5_000 - STATUS_ROWS_LIMIT);
    expect(Buffer.byteLength(JSON.stringify(t))).toBeLessThan(256 * 1024);
  });
});

describe('setup report of a large fleet', () => {
  const outcome = (i: number, state: 'InSync' | 'Failed'): SecretOutcome => ({
    secret: `s${i}`,
    region: 'dr',
    state,
    action: state === 'InSync' ? 'replicated' : 'failed',
  });

  it('up to SETUP_OUTCOMES_LIMIT every outcome is listed; above it only those not InSync, the rest counted', () => {
    const few = Array.from({ length: SETUP_OUTCOMES_LIMIT }, (_, i) => outcome(i, 'InSync'));
    expect(listedOutcomes(few)).toEqual({ outcomes: few });
    const many = Array.from({ length: 100_000 }, (_, i) => outcome(i, i % 10_000 === 7 ? 'Failed' : 'InSync'));
    const listed = listedOutcomes(many);
    expect(listed.outcomes.map((o) => o.secret)).toEqual(['s7', 's10007', 's20007', 's30007', 's40007', 's50007', 's60007', 's70007', 's80007', 's90007']);
    expect(listed.omittedOutcomes).toBe(100_000 - 10);
    expect(Buffer.byteLength(JSON.stringify(listed))).toBeLessThan(256 * 1024);
  });
});

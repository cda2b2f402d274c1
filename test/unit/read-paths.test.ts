import { describe, expect, it } from 'vitest';
import { judgeReadPaths, readPathCycleDue, readPathProblem, readPathReason, readPathTargets, withReadPathFindings } from '../../domain/read-paths.js';

describe('read paths (domain/read-paths.ts)', () => {
  it('a secret is current only when both paths answer the expected version', () => {
    const ok = { ok: true, versionId: 'v2' };
    expect(judgeReadPaths('a', 'v2', { GetSecretValue: ok, ParameterStore: ok }).current).toBe(true);
    const behind = judgeReadPaths('a', 'v2', { GetSecretValue: ok, ParameterStore: { ok: true, versionId: 'v1' } });
    expect(behind.current).toBe(false);
    expect(readPathProblem(behind)).toBe('a: ParameterStore: version v1, expected v2');
    const denied = judgeReadPaths('a', undefined, { GetSecretValue: ok, ParameterStore: { ok: false, error: 'AccessDeniedException: no' } });
    expect(readPathProblem(denied)).toBe('a: ParameterStore: AccessDeniedException: no');
  });

  it("targets: the primary's covered secrets at its AWSCURRENT; without the primary, the DR Region's own copies", () => {
    const covered = (e: { name: string }) => e.name.startsWith('prod/');
    const primary = {
      entries: [
        { name: 'prod/a', current: 'v1' },
        { name: 'other', current: 'x' },
        { name: 'prod/b', current: 'v9', primaryRegion: 'us-east-1' },
        { name: 'prod/c', deleted: true },
      ],
    };
    expect(readPathTargets({ primaryRegion: 'ap-northeast-1' }, covered, primary, undefined)).toEqual([{ name: 'prod/a', expected: 'v1' }]);
    const dr = {
      entries: [
        { name: 'prod/a', current: 'v1', primaryRegion: 'ap-northeast-1' },
        { name: 'prod/z', current: 'q', primaryRegion: 'eu-west-1' },
      ],
    };
    expect(readPathTargets({ primaryRegion: 'ap-northeast-1' }, covered, undefined, dr)).toEqual([{ name: 'prod/a', expected: 'v1' }]);
  });

  it('the monitor runs the slower cycle when due, and its finding stands until the next one', () => {
    expect(readPathCycleDue(undefined, undefined, 0)).toBe(false);
    expect(readPathCycleDue(900_000, undefined, 5)).toBe(true);
    expect(readPathCycleDue(900_000, { at: 0, reasons: {} }, 899_999)).toBe(false);
    expect(readPathCycleDue(900_000, { at: 0, reasons: {} }, 900_000)).toBe(true);
    const reason = readPathReason({
      region: 'dr',
      checked: 2,
      current: 1,
      failed: [judgeReadPaths('a', 'v2', { GetSecretValue: { ok: true, versionId: 'v2' }, ParameterStore: { ok: false, error: 'AccessDeniedException: x' } })],
      failedCount: 1,
      checkedAt: '',
      calls: 4,
    })!;
    expect(reason).toMatchObject({ code: 'read-path', count: 1 });
    const obs = withReadPathFindings(
      [
        { region: 'dr', reachable: true, findings: [] },
        { region: 'p', reachable: true, findings: [] },
        { region: 'x', reachable: false },
      ],
      { at: 0, reasons: { dr: reason, x: reason } },
    );
    expect(obs[0]!.findings).toEqual([reason]);
    expect(obs[1]!.findings).toEqual([]);
    expect(obs[2]!.findings).toBeUndefined();
  });
});

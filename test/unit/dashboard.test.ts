/**
 * The dashboard's pure parts: the token check, escaping of everything a workflow reports, the
 * page's Content Security Policy matching its own inline style and script, the trend chart, the
 * commands it prints, and how the bootstrap decides to install Chromium (fake system).
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { resolveChromium } from '../../scripts/tools.mjs';
import type { DrillReport } from '../../domain/drill.js';
import type { DashboardState } from '../../dashboard/model.js';
import { approvalViews, finishedView, operationView, shellArg } from '../../dashboard/operations.js';
import { escapeHtml } from '../../dashboard/html.js';
import { EXPORT_CSP, LIVE_CSP, renderPage } from '../../dashboard/page.js';
import { newToken, tokenMatches } from '../../dashboard/server.js';
import { renderTrendChart } from '../../dashboard/trend-chart.js';

const EVIL = '<img src=x onerror=alert(1)>"\'&';

function state(over: Partial<DashboardState> = {}): DashboardState {
  return {
    generatedAt: '2026-12-02T08:00:00.000Z',
    plan: { name: 'payments', primaryRegion: 'ap-northeast-1', drRegions: ['ap-northeast-3'], rtoTargetMs: 300_000 },
    health: { available: false, reason: 'no health monitor is running for plan payments', command: 'secrets-dr monitor start' },
    operations: [],
    approvals: [],
    finished: [],
    drills: [],
    problems: [],
    ...over,
  };
}

function drill(startedAt: string, rtoMs: number, rpoMs: number, withinTarget = true): DrillReport {
  return {
    workflowId: `secrets-dr/payments/drill/${startedAt}`,
    plan: 'payments',
    trigger: 'test',
    primaryRegion: 'ap-northeast-1',
    drRegions: ['ap-northeast-3'],
    canaries: ['secrets-dr-drill/payments/1'],
    startedAt,
    endedAt: startedAt,
    durationMs: 3_000,
    outcome: withinTarget ? 'passed' : 'missed-target',
    rtoMs,
    rpoMs,
    rtoTargetMs: 300_000,
    withinTarget,
    regions: [],
    steps: [],
    cleanup: { leftoversRemoved: 0, deleted: 1, remaining: [] },
    warnings: [],
  };
}

const inlineHash = (page: string, tag: 'style' | 'script') => {
  const m = new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`).exec(page);
  return `'sha256-${createHash('sha256').update(m![1]!, 'utf8').digest('base64')}'`;
};

describe('dashboard access token', () => {
  it('accepts exactly the token, whatever the length of the guess', () => {
    const token = newToken();
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(tokenMatches(token, token)).toBe(true);
    for (const wrong of [undefined, '', token.slice(1), `${token}x`, token.toUpperCase()]) expect(tokenMatches(wrong, token)).toBe(false);
  });
});

describe('dashboard page', () => {
  it('escapes every name and reason a workflow reports', () => {
    const finished = finishedView(
      { kind: 'failover', workflowId: 'secrets-dr/payments/failover', runId: 'r', startedAt: '2026-12-02T07:00:00Z', status: 'COMPLETED' },
      {
        outcome: 'partial',
        from: 'a',
        to: 'b',
        mode: 'planned',
        total: 1,
        durationMs: 10,
        counts: { promoted: 0, alreadyStandalone: 0, failed: 1, skipped: 0 },
        attention: [],
        outcomes: [{ name: EVIL, status: 'failed', reason: EVIL }],
      },
    );
    const page = renderPage(state({ finished: [finished], problems: [EVIL] }), { live: false });
    expect(page).not.toContain('<img src=x');
    expect(page).toContain('&lt;img src=x onerror=alert(1)&gt;&quot;&#39;&amp;');
    // The inlined JSON cannot close its script element.
    expect(page.match(/<\/script>/g)).toHaveLength(1);
  });

  it('allows its own inline style and script by hash, and the export has no script at all', () => {
    const live = renderPage(state(), { live: true, intervalMs: 2_000 });
    expect(LIVE_CSP).toContain(`script-src ${inlineHash(live, 'script')}`);
    expect(LIVE_CSP).toContain(`style-src ${inlineHash(live, 'style')}`);
    expect(LIVE_CSP).toMatch(/^default-src 'none';/);
    const exported = renderPage(state(), { live: false });
    expect(exported).toContain(`content="${escapeHtml(EXPORT_CSP)}"`);
    expect(EXPORT_CSP).not.toContain('script-src');
    expect(exported).not.toMatch(/<script>/);
  });

  it('says how to start the monitor when none runs', () => {
    expect(renderPage(state(), { live: false })).toContain('<code class="command">secrets-dr monitor start</code>');
  });
});

describe('dashboard drill trend', () => {
  it('plots RTO and RPO per drill, oldest first, against the target; a drill over target is red', () => {
    const svg = renderTrendChart([drill('2026-12-02T03:00:00Z', 400_000, 900, false), drill('2026-11-25T03:00:00Z', 20, 300)], 300_000);
    expect(svg.match(/class="point rtoMs"/g)).toHaveLength(2);
    expect(svg.match(/class="point rpoMs"/g)).toHaveLength(2);
    expect(svg).toContain('class="target"');
    const rto = [...svg.matchAll(/<circle class="point rtoMs" cx="([\d.]+)" cy="([\d.]+)" r="4" fill="(#\w+)">/g)].map((m) => ({
      x: Number(m[1]),
      y: Number(m[2]),
      fill: m[3],
    }));
    expect(rto[0]!.x).toBeLessThan(rto[1]!.x); // 11-25 before 12-02
    expect(rto[0]!.y).toBeGreaterThan(rto[1]!.y); // 20 ms lower on the chart than 400 s
    expect(rto.map((p) => p.fill)).toEqual(['#1565c0', '#c62828']);
    expect(renderTrendChart([], 300_000)).toContain('secrets-dr drill run --wait');
  });
});

describe('dashboard commands', () => {
  it('quotes what a shell would split, and names the subject only where the workflow picks a gate by it', () => {
    expect(shellArg('secrets-dr/payments/failover')).toBe('secrets-dr/payments/failover');
    expect(shellArg("prod/it's me")).toBe(`'prod/it'\\''s me'`);
    const gate = { step: 'failover', subject: 'ap-northeast-1 → ap-northeast-3 (3 secrets)', requestedAt: 'x', timeoutMs: 1 };
    expect(approvalViews('failover', 'secrets-dr/p/failover', gate, undefined)[0]!.approve).toBe('secrets-dr approve secrets-dr/p/failover');
    const asks = { pendingAsks: [{ subject: 'prod/db', change: 'both-changed', requestedAt: 'x', timeoutMs: 1 }] };
    expect(approvalViews('failback', 'secrets-dr/p/failback', null, asks).map((a) => a.reject)).toEqual([
      'secrets-dr reject secrets-dr/p/failback --subject prod/db --reason TEXT',
    ]);
  });

  it('a drill (no progress query) shows how long it runs; a failover its progress and controls', () => {
    const base = { workflowId: 'secrets-dr/p/drill/1', runId: 'r', startedAt: '2026-12-02T08:00:00.000Z' };
    expect(operationView({ ...base, kind: 'drill' }, undefined, Date.parse('2026-12-02T08:01:30Z')).notes).toEqual([
      'running for 1m30s (it has no progress query)',
    ]);
    const fo = operationView(
      { ...base, kind: 'failover', workflowId: 'secrets-dr/p/failover' },
      {
        workflowId: 'x',
        plan: 'p',
        from: 'a',
        to: 'b',
        mode: 'planned',
        step: 'promoting',
        paused: true,
        cancelRequested: false,
        total: 10,
        processed: 4,
        counts: { promoted: 4, alreadyStandalone: 0, failed: 0, skipped: 0 },
        ratePerSecond: 2,
        etaMs: 3_000,
        startedAt: 'x',
        fence: { state: 'applied', fenced: 10, failed: 0 },
      },
      0,
    );
    expect(fo).toMatchObject({ step: 'promoting (PAUSED)', done: 4, total: 10 });
    expect(fo.commands).toContain('secrets-dr watch secrets-dr/p/failover');
  });
});

describe('bootstrap: Chromium for the dashboard tests', () => {
  const fake = (over: Partial<Parameters<typeof resolveChromium>[0]> & { onPath?: string[]; aptOk?: boolean[] } = {}) => {
    const onPath = new Set(over.onPath ?? []);
    const calls: string[] = [];
    const aptOk = [...(over.aptOk ?? [true])];
    const r = resolveChromium({
      env: {},
      isRoot: true,
      find: (n) => (onPath.has(n) ? `/usr/bin/${n}` : undefined),
      executable: () => false,
      runner: (cmd, args) => {
        calls.push(`${cmd} ${args.join(' ')}`);
        if (args[0] !== 'install') return { ok: true, out: '' };
        const ok = aptOk.shift() ?? false;
        if (ok) onPath.add('chromium');
        return { ok, out: ok ? '' : 'E: Unable to locate package chromium' };
      },
      ...over,
    });
    return { r, calls };
  };

  it('uses a chromium already on PATH and installs nothing', () => {
    expect(fake({ onPath: ['chromium', 'apt-get'] })).toEqual({ r: { path: '/usr/bin/chromium', source: 'PATH' }, calls: [] });
  });
  it('as root with apt: apt-get install -y chromium (and apt-get update, then again, when the first try fails)', () => {
    expect(fake({ onPath: ['apt-get'] }).calls).toEqual(['/usr/bin/apt-get install -y --no-install-recommends chromium']);
    const retried = fake({ onPath: ['apt-get'], aptOk: [false, true] });
    expect(retried.calls).toEqual([
      '/usr/bin/apt-get install -y --no-install-recommends chromium',
      '/usr/bin/apt-get update',
      '/usr/bin/apt-get install -y --no-install-recommends chromium',
    ]);
    expect(retried.r).toEqual({ path: '/usr/bin/chromium', source: 'apt-get install chromium' });
  });
  it('otherwise says why, installing nothing', () => {
    expect(fake({ onPath: ['apt-get'], isRoot: false })).toMatchObject({ r: { missing: expect.stringMatching(/only when running as root/) }, calls: [] });
    expect(fake({ onPath: [] })).toMatchObject({ r: { missing: expect.stringMatching(/apt-get is not available/) }, calls: [] });
    expect(fake({ onPath: ['apt-get'], aptOk: [false, false] }).r.missing).toMatch(
      /apt-get install -y chromium failed \(E: Unable to locate package chromium\)/,
    );
    expect(fake({ onPath: ['apt-get'], install: false })).toMatchObject({ r: { missing: expect.stringMatching(/no Chromium on PATH/) }, calls: [] });
    expect(fake({ env: { CHROMIUM_PATH: '/nope' } }).r.missing).toMatch(/CHROMIUM_PATH=\/nope is not an executable file/);
  });
});

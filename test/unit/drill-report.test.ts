import { describe, expect, it } from 'vitest';
import { renderDrillMarkdown, renderDrillSvg } from '../../domain/drill-report.js';
import { DrillReport, type DrillStep } from '../../domain/drill.js';

const at = (ms: number) => new Date(Date.UTC(2025, 0, 4, 3, 0, 0) + ms).toISOString();
const bar = (step: DrillStep, region: string, from: number, to: number, ok = true, detail?: string) => ({
  step,
  region,
  startedAt: at(from),
  endedAt: at(to),
  durationMs: to - from,
  ok,
  ...(detail ? { detail } : {}),
});

function report(over: Partial<DrillReport> = {}): DrillReport {
  return DrillReport.parse({
    workflowId: 'secrets-dr/payments/drill/20250104T030000.000Z',
    plan: 'payments',
    trigger: 'schedule',
    primaryRegion: 'ap-northeast-1',
    drRegions: ['ap-northeast-3', 'us-east-1'],
    canaries: ['secrets-dr-drill/payments/0'],
    startedAt: at(0),
    endedAt: at(9_000),
    durationMs: 9_000,
    outcome: 'passed',
    rtoMs: 1_200,
    rpoMs: 2_050,
    rtoTargetMs: 300_000,
    withinTarget: true,
    regions: [
      {
        region: 'ap-northeast-3',
        rpoMs: 2_050,
        rtoMs: 1_200,
        promoteMs: 19,
        readPaths: { GetSecretValue: { rtoMs: 900, current: true }, ParameterStore: { rtoMs: 1_200, current: true } },
        verified: true,
      },
      { region: 'us-east-1', rpoMs: 400, rtoMs: 300, verified: true },
    ],
    steps: [
      bar('prepare', 'ap-northeast-1', 0, 100),
      bar('cleanLeftovers', 'ap-northeast-1', 100, 200),
      bar('create', 'ap-northeast-1', 200, 300),
      bar('replicate', 'ap-northeast-3', 300, 1_300),
      bar('replicate', 'us-east-1', 300, 900),
      bar('measureRpo', 'ap-northeast-3', 1_400, 3_450),
      bar('promote', 'ap-northeast-3', 3_500, 4_700),
      bar('promote', 'us-east-1', 3_500, 3_800),
      bar('verify', 'ap-northeast-3', 4_800, 5_000),
      bar('cleanUp', 'ap-northeast-1', 5_000, 6_000),
    ],
    cleanup: { leftoversRemoved: 0, deleted: 3, remaining: [] },
    warnings: [],
    ...over,
  });
}

/** A small XML well-formedness check: balanced tags, quoted attributes, escaped text. */
function parseXml(xml: string): Array<{ name: string; attrs: Record<string, string> }> {
  const elements: Array<{ name: string; attrs: Record<string, string> }> = [];
  const stack: string[] = [];
  const token = /<(\/?)([A-Za-z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>|([^<]+)|(<)/g;
  let m: RegExpExecArray | null;
  let pos = 0;
  while ((m = token.exec(xml))) {
    if (m.index !== pos) throw new Error(`unparsed text at ${pos}`);
    pos = token.lastIndex;
    if (m[6]) throw new Error(`stray "<" at ${m.index}: ${xml.slice(m.index, m.index + 40)}`);
    if (m[5] !== undefined) {
      if (/&(?!amp;|lt;|gt;|quot;|apos;|#\d+;)/.test(m[5])) throw new Error(`unescaped & in text: ${m[5]}`);
      if (stack.length === 0 && m[5].trim()) throw new Error('text outside the root element');
      continue;
    }
    const [, close, name, rawAttrs, selfClose] = m as unknown as [string, string, string, string, string];
    if (close) {
      if (stack.pop() !== name) throw new Error(`mismatched </${name}>`);
      continue;
    }
    const attrs = Object.fromEntries([...rawAttrs.matchAll(/([\w:-]+)="([^"]*)"/g)].map((a) => [a[1]!, a[2]!]));
    elements.push({ name, attrs });
    if (!selfClose) stack.push(name);
  }
  if (pos !== xml.length) throw new Error('trailing garbage');
  if (stack.length) throw new Error(`unclosed <${stack.join('>, <')}>`);
  return elements;
}

describe('drill report renderers (pure)', () => {
  it('the SVG is well-formed XML with a lane per Region, a bar per step and the RTO target line', () => {
    const r = report();
    const els = parseXml(renderDrillSvg(r));
    expect(els[0]!.name).toBe('svg');
    expect(els.filter((e) => e.attrs.class === 'lane').map((e) => e.attrs['data-region'])).toEqual(['ap-northeast-1', 'ap-northeast-3', 'us-east-1']);
    const bars = els.filter((e) => e.attrs.class === 'bar').map((e) => `${e.attrs['data-step']}@${e.attrs['data-region']}`);
    expect(bars.sort()).toEqual(r.steps.map((s) => `${s.step}@${s.region}`).sort());
    expect(els.some((e) => e.name === 'line' && e.attrs.id === 'rto-target')).toBe(true);
    expect(els.some((e) => e.name === 'rect' && e.attrs.id === 'rto-bar')).toBe(true);
  });

  it('a failed drill: the failing bar is marked, text with <, & and quotes is escaped, no RTO bar', () => {
    const r = report({
      outcome: 'failed',
      rtoMs: undefined,
      withinTarget: undefined,
      failure: { step: 'promote', region: 'ap-northeast-3', reason: 'AccessDenied <"x" & y>' },
      steps: [bar('promote', 'ap-northeast-3', 3_500, 3_600, false, 'AccessDenied <"x" & y>')],
    });
    const svg = renderDrillSvg(r);
    const els = parseXml(svg);
    expect(els.find((e) => e.attrs.class === 'bar')?.attrs['data-step']).toBe('promote');
    expect(els.some((e) => e.attrs.id === 'rto-bar')).toBe(false);
    expect(els.some((e) => e.attrs.id === 'rto-target')).toBe(true);
    expect(svg).toContain('failed at promote (RTO) in ap-northeast-3');
  });

  it('the Markdown has the figures against the target, the steps per Region and the failing step', () => {
    const md = renderDrillMarkdown(report());
    expect(md).toMatch(/# DR drill payments: PASSED/);
    expect(md).toMatch(/\| RTO \(promote decision → readable and writable through both read paths\) \| 1\.20 s \| 5m \| within target \|/);
    expect(md).toMatch(/\| RPO proxy .* \| 2\.05 s \|/);
    expect(md).toMatch(/\| ap-northeast-3 \| 2\.05 s \| 1\.20 s \| 900 ms \| 1\.20 s \| 19 ms \| yes \|/);
    expect(md).toMatch(/\| promote \(RTO\) \| us-east-1 \|/);
    const failed = renderDrillMarkdown(report({ outcome: 'failed', failure: { step: 'promote', region: 'ap-northeast-3', reason: 'AccessDeniedException' } }));
    expect(failed).toMatch(/failed at \*\*promote \(RTO\)\*\* in ap-northeast-3: AccessDeniedException/);
    expect(renderDrillMarkdown(report({ outcome: 'missed-target', rtoMs: 400_000, withinTarget: false }))).toMatch(/MISSED THE RTO TARGET[\s\S]*over target/);
  });
});

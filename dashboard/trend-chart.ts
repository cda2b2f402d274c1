/**
 * The drills' RTO and RPO against the RTO target, oldest drill on the left, as inline SVG (no
 * script, no external asset). The y axis is logarithmic: a 20 ms RTO and a 5 min target are both
 * readable on one chart.
 */
import type { DrillReport } from '../domain/drill.js';
import { formatFigure } from '../domain/drill-report.js';
import { escapeHtml } from './html.js';

const W = 760;
const H = 260;
const LEFT = 70;
const RIGHT = 150;
const TOP = 20;
const BOTTOM = 40;
const TICKS: ReadonlyArray<[number, string]> = [
  [1, '1 ms'],
  [10, '10 ms'],
  [100, '100 ms'],
  [1_000, '1 s'],
  [10_000, '10 s'],
  [60_000, '1 min'],
  [600_000, '10 min'],
  [3_600_000, '1 h'],
];

export function renderTrendChart(reports: readonly DrillReport[], targetMs: number): string {
  const drills = [...reports].sort((a, b) => a.startedAt.localeCompare(b.startedAt));
  if (drills.length === 0) return '<p class="empty">No drill has finished yet: <code>secrets-dr drill run --wait</code> runs one.</p>';
  const figures = drills.flatMap((d) => [d.rtoMs, d.rpoMs, d.rtoTargetMs]).filter((v): v is number => v !== undefined);
  const lo = 1;
  const hi = Math.max(10, targetMs, ...figures) * 2;
  const y = (ms: number) => TOP + (1 - (Math.log10(Math.max(lo, ms)) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) * (H - TOP - BOTTOM);
  const x = (i: number) => (drills.length === 1 ? LEFT + (W - LEFT - RIGHT) / 2 : LEFT + (i / (drills.length - 1)) * (W - LEFT - RIGHT));
  const out = [
    `<svg id="drill-trend" xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img" aria-label="RTO and RPO of the last drills against the RTO target" font-family="Helvetica, Arial, sans-serif" font-size="11">`,
    `<rect x="0" y="0" width="${W}" height="${H}" fill="#ffffff"/>`,
  ];
  for (const [t, label] of TICKS.filter(([v]) => v <= hi)) {
    out.push(`<line x1="${LEFT}" x2="${W - RIGHT}" y1="${y(t).toFixed(1)}" y2="${y(t).toFixed(1)}" stroke="#e6e6e6"/>`);
    out.push(`<text x="${LEFT - 6}" y="${(y(t) + 4).toFixed(1)}" text-anchor="end" fill="#666">${label}</text>`);
  }
  const ty = y(targetMs).toFixed(1);
  out.push(`<line class="target" x1="${LEFT}" x2="${W - RIGHT}" y1="${ty}" y2="${ty}" stroke="#000" stroke-width="2" stroke-dasharray="6,4"/>`);
  out.push(`<text x="${W - RIGHT + 6}" y="${ty}" fill="#000">RTO target ${escapeHtml(formatFigure(targetMs))}</text>`);
  const series = (key: 'rtoMs' | 'rpoMs', colour: string, label: string, dy: number) => {
    const pts = drills.map((d, i) => (d[key] === undefined ? undefined : `${x(i).toFixed(1)},${y(d[key]!).toFixed(1)}`));
    const line = pts.filter(Boolean).join(' ');
    if (line.includes(' ')) out.push(`<polyline class="${key}" points="${line}" fill="none" stroke="${colour}" stroke-width="2"/>`);
    drills.forEach((d, i) => {
      if (d[key] === undefined) return;
      const over = key === 'rtoMs' && d.withinTarget === false;
      out.push(
        `<circle class="point ${key}" cx="${x(i).toFixed(1)}" cy="${y(d[key]!).toFixed(1)}" r="4" fill="${over ? '#c62828' : colour}"><title>${escapeHtml(`${label} ${formatFigure(d[key])} — ${d.workflowId} (${d.outcome})`)}</title></circle>`,
      );
    });
    out.push(`<text x="${W - RIGHT + 6}" y="${TOP + dy}" fill="${colour}">● ${label}</text>`);
  };
  series('rtoMs', '#1565c0', 'RTO', 40);
  series('rpoMs', '#ef6c00', 'RPO', 58);
  drills.forEach((d, i) => {
    out.push(
      `<text x="${x(i).toFixed(1)}" y="${H - BOTTOM + 16}" text-anchor="middle" fill="#666">${escapeHtml(d.startedAt.slice(5, 16).replace('T', ' '))}</text>`,
    );
  });
  out.push(`<text x="${LEFT}" y="${H - 6}" fill="#666">drills, oldest first (UTC); red: over the RTO target</text>`);
  out.push('</svg>');
  return out.join('\n');
}

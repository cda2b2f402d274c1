/**
 * Drill reports for people: Markdown (figures, RTO against the target, steps per Region, the
 * failing step) and an SVG timeline (one lane per Region, a bar per step with its duration, and
 * the RTO drawn against the target line). Pure functions of the JSON report.
 */
import { formatDuration } from './duration.js';
import { DRILL_STEPS, type DrillReport } from './drill.js';

const labelOf = (step: string) => DRILL_STEPS.find((s) => s.step === step)?.label ?? step;
const fmt = (ms: number | undefined) => (ms === undefined ? '—' : formatDuration(ms));
/** Figures keep their precision: 2050 → `2.05 s`, 12 → `12 ms`. */
export const formatFigure = (ms: number | undefined) =>
  ms === undefined ? '—' : ms < 1_000 ? `${Math.round(ms)} ms` : ms < 60_000 ? `${(ms / 1_000).toFixed(2)} s` : formatDuration(ms);

/** File names of a report (the drill id's last segment, made safe). */
/** One read path's RTO cell: the figure, or why there is none. */
function pathFigure(p: { rtoMs?: number; current: boolean } | undefined): string {
  if (!p) return '—';
  return p.current && p.rtoMs !== undefined ? formatFigure(p.rtoMs) : 'NOT CURRENT';
}

export function drillReportBaseName(report: Pick<DrillReport, 'workflowId'>): string {
  return `drill-${report.workflowId
    .split('/')
    .pop()!
    .replace(/[^A-Za-z0-9._-]/g, '_')}`;
}

export function renderDrillMarkdown(r: DrillReport): string {
  const verdict = r.outcome === 'passed' ? 'PASSED' : r.outcome === 'missed-target' ? 'MISSED THE RTO TARGET' : r.outcome.toUpperCase();
  const lines = [
    `# DR drill ${r.plan}: ${verdict}`,
    '',
    `- drill: \`${r.workflowId}\` (${r.trigger})`,
    `- when: ${r.startedAt} → ${r.endedAt} (${fmt(r.durationMs)})`,
    r.recoveryAccountId
      ? `- accounts: primary account (lane ${r.primaryRegion}) → recovery account ${r.recoveryAccountId} (lane ${r.drRegions.join(', ')}), cross-account replicas in ${r.primaryRegion}`
      : `- Regions: primary ${r.primaryRegion}, DR ${r.drRegions.join(', ')}`,
    `- canaries: ${r.canaries.map((c) => `\`${c}\``).join(', ')} (values never leave the activities)`,
    '',
    '## Figures',
    '',
    '| figure | measured | target | verdict |',
    '|---|---|---|---|',
    `| RTO (promote decision → readable and writable through both read paths) | ${formatFigure(r.rtoMs)} | ${fmt(r.rtoTargetMs)} | ${r.rtoMs === undefined ? 'not measured' : r.withinTarget ? 'within target' : 'over target'} |`,
    `| RPO proxy (canary write → visible in the DR Region) | ${formatFigure(r.rpoMs)} | — | ${r.rpoMs === undefined ? 'not measured' : 'measured'} |`,
    '',
    '| Region | RPO | RTO | via GetSecretValue | via Parameter Store | promote calls | verified |',
    '|---|---|---|---|---|---|---|',
    ...r.regions.map(
      (g) =>
        `| ${g.region} | ${formatFigure(g.rpoMs)} | ${formatFigure(g.rtoMs)} | ${pathFigure(g.readPaths?.GetSecretValue)} | ${pathFigure(g.readPaths?.ParameterStore)} | ${formatFigure(g.promoteMs)} | ${g.verified === undefined ? '—' : g.verified ? 'yes' : 'NO'} |`,
    ),
    '',
  ];
  if (r.failure) {
    lines.push(
      '## Failure',
      '',
      `The drill failed at **${labelOf(r.failure.step)}**${r.failure.region ? ` in ${r.failure.region}` : ''}: ${r.failure.reason}`,
      '',
    );
  }
  lines.push('## Steps', '', '| step | Region | start | end | duration | result |', '|---|---|---|---|---|---|');
  for (const s of r.steps) {
    lines.push(
      `| ${labelOf(s.step)} | ${s.region} | ${s.startedAt} | ${s.endedAt} | ${formatFigure(s.durationMs)} | ${s.ok ? 'ok' : `failed${s.detail ? `: ${s.detail.replace(/\|/g, '\\|')}` : ''}`} |`,
    );
  }
  lines.push('', '## Clean-up', '');
  lines.push(`- leftovers of earlier drills removed: ${r.cleanup.leftoversRemoved}`);
  lines.push(`- canaries deleted: ${r.cleanup.deleted}`);
  lines.push(`- left behind: ${r.cleanup.remaining.length === 0 ? 'nothing' : r.cleanup.remaining.join(', ')}`);
  if (r.warnings.length) lines.push('', '## Warnings', '', ...r.warnings.map((w) => `- ${w}`));
  return lines.join('\n') + '\n';
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const COLORS: Record<string, string> = {
  prepare: '#9aa5b1',
  cleanLeftovers: '#b08968',
  create: '#4c9be8',
  replicate: '#5fb49c',
  measureRpo: '#e9a23b',
  promote: '#d9534f',
  verify: '#8e6bbf',
  cleanUp: '#6c757d',
};

/** The SVG timeline: lanes per Region, a bar per step, then the RTO against its target. */
export function renderDrillSvg(r: DrillReport): string {
  const W = 1100;
  const left = 170;
  const right = 30;
  const rowH = 20;
  const top = 70;
  const regions = [r.primaryRegion, ...r.drRegions];
  const t0 = Date.parse(r.startedAt);
  const t1 = Math.max(Date.parse(r.endedAt), t0 + 1);
  const x = (t: number) => left + ((t - t0) / (t1 - t0)) * (W - left - right);
  // One row per step within a Region's lane (a step that ran twice in a Region shares its row).
  const rowsOf = (region: string) => [...new Set(r.steps.filter((s) => s.region === region).map((s) => s.step))];
  const laneHeights = regions.map((region) => Math.max(1, rowsOf(region).length) * rowH + 12);
  const lanesH = laneHeights.reduce((a, b) => a + b, 0);
  const gaugeTop = top + lanesH + 50;
  const H = gaugeTop + 90;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="Helvetica, Arial, sans-serif" font-size="12">`,
    `<rect x="0" y="0" width="${W}" height="${H}" fill="#ffffff"/>`,
    `<text x="20" y="28" font-size="18" font-weight="bold">DR drill ${esc(r.plan)}: ${esc(r.outcome)} — RTO ${esc(formatFigure(r.rtoMs))} (target ${esc(fmt(r.rtoTargetMs))}), RPO ${esc(formatFigure(r.rpoMs))}</text>`,
    `<text x="20" y="50" fill="#555">${esc(r.workflowId)} · ${esc(r.startedAt)} · ${esc(fmt(r.durationMs))}${r.failure ? ` · failed at ${esc(labelOf(r.failure.step))}${r.failure.region ? ` in ${esc(r.failure.region)}` : ''}` : ''}</text>`,
  ];
  // Time axis ticks.
  for (let i = 0; i <= 5; i++) {
    const t = t0 + ((t1 - t0) * i) / 5;
    out.push(`<line x1="${x(t).toFixed(1)}" y1="${top - 6}" x2="${x(t).toFixed(1)}" y2="${top + lanesH}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${x(t).toFixed(1)}" y="${top - 10}" text-anchor="middle" fill="#777">+${esc(fmt(t - t0))}</text>`);
  }
  let y = top;
  regions.forEach((region, i) => {
    const rows = rowsOf(region);
    out.push(`<g class="lane" data-region="${esc(region)}">`);
    out.push(`<rect x="${left}" y="${y}" width="${W - left - right}" height="${laneHeights[i]! - 4}" fill="${i % 2 ? '#fafafa' : '#f3f6f9'}"/>`);
    out.push(`<text x="20" y="${y + laneHeights[i]! / 2}" font-weight="bold">${esc(region)}</text>`);
    const kind = r.recoveryAccountId ? (region === r.primaryRegion ? 'primary account' : 'recovery account') : region === r.primaryRegion ? 'primary' : 'DR';
    out.push(`<text x="20" y="${y + laneHeights[i]! / 2 + 14}" fill="#777">${kind}</text>`);
    for (const s of r.steps.filter((st) => st.region === region)) {
      const bx = x(Date.parse(s.startedAt));
      const bw = Math.max(3, x(Date.parse(s.endedAt)) - bx);
      const by = y + 6 + rows.indexOf(s.step) * rowH;
      out.push(
        `<g class="bar" data-step="${s.step}" data-region="${esc(region)}"><title>${esc(labelOf(s.step))} in ${esc(region)}: ${esc(formatFigure(s.durationMs))}${s.ok ? '' : ` — failed: ${esc(s.detail ?? '')}`}</title>` +
          `<rect x="${bx.toFixed(1)}" y="${by}" width="${bw.toFixed(1)}" height="16" rx="3" fill="${COLORS[s.step] ?? '#888'}"${s.ok ? '' : ' stroke="#b00020" stroke-width="2"'}/></g>`,
      );
    }
    // One label per row (a step that ran more than once in a Region: its count and total time).
    rows.forEach((step, k) => {
      const bars = r.steps.filter((st) => st.region === region && st.step === step);
      const from = x(Math.min(...bars.map((b) => Date.parse(b.startedAt))));
      const to = Math.max(from + 3, x(Math.max(...bars.map((b) => Date.parse(b.endedAt)))));
      const ok = bars.every((b) => b.ok);
      const total = bars.reduce((sum, b) => sum + b.durationMs, 0);
      const label = `${labelOf(step)}${bars.length > 1 ? ` ×${bars.length}` : ''} ${formatFigure(total)}${ok ? '' : ' ✗ failed'}`;
      // Right of the bars when there is room, else left of them.
      const right = to + 6 + label.length * 6.5 < W - 5 || from - left < label.length * 6.5;
      out.push(
        `<text x="${(right ? to + 4 : from - 4).toFixed(1)}" y="${y + 6 + k * rowH + 12}" text-anchor="${right ? 'start' : 'end'}" fill="${ok ? '#222' : '#b00020'}">${esc(label)}</text>`,
      );
    });
    out.push('</g>');
    y += laneHeights[i]!;
  });
  // RTO against the target: its own scale, so a 1 s RTO and a 5 min target are both visible.
  const scaleMax = Math.max(r.rtoMs ?? 0, r.rtoTargetMs) * 1.1;
  const gx = (ms: number) => left + (ms / scaleMax) * (W - left - right);
  out.push(`<g class="rto">`);
  out.push(`<text x="20" y="${gaugeTop + 25}" font-weight="bold">RTO vs target</text>`);
  out.push(`<rect x="${left}" y="${gaugeTop + 8}" width="${W - left - right}" height="28" fill="#f3f6f9"/>`);
  if (r.rtoMs !== undefined) {
    out.push(
      `<rect id="rto-bar" x="${left}" y="${gaugeTop + 12}" width="${Math.max(3, gx(r.rtoMs) - left).toFixed(1)}" height="20" fill="${r.withinTarget ? '#2e7d32' : '#c62828'}"/>`,
    );
    out.push(`<text x="${left + 6}" y="${gaugeTop + 56}">RTO ${esc(formatFigure(r.rtoMs))}</text>`);
  } else {
    out.push(`<text x="${left + 6}" y="${gaugeTop + 27}" fill="#777">RTO not measured (the drill stopped before promotion)</text>`);
  }
  out.push(
    `<line id="rto-target" class="target" x1="${gx(r.rtoTargetMs).toFixed(1)}" y1="${gaugeTop}" x2="${gx(r.rtoTargetMs).toFixed(1)}" y2="${gaugeTop + 44}" stroke="#000" stroke-width="2" stroke-dasharray="5,3"/>`,
  );
  out.push(`<text x="${gx(r.rtoTargetMs).toFixed(1)}" y="${gaugeTop + 72}" text-anchor="end">target ${esc(fmt(r.rtoTargetMs))}</text>`);
  out.push('</g>', '</svg>');
  return out.join('\n') + '\n';
}

/**
 * The dashboard's sections as HTML fragments, pure functions of the collected state. The live page
 * replaces each section when its fragment changes; the exported page is the same fragments, once.
 */
import { formatDuration } from '../domain/duration.js';
import { formatFigure, renderDrillSvg } from '../domain/drill-report.js';
import type { DrillReport } from '../domain/drill.js';
import { html, raw, type Raw } from './html.js';
import type { DashboardState, OperationView } from './model.js';
import { renderTrendChart } from './trend-chart.js';

export const SECTION_IDS = ['health', 'operations', 'approvals', 'finished', 'drills', 'problems'] as const;
export type SectionId = (typeof SECTION_IDS)[number];

const when = (iso: string | undefined) => (iso ? iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '—');
const countsText = (c: Record<string, number> | undefined) =>
  c
    ? Object.entries(c)
        .map(([k, n]) => `${n} ${k}`)
        .join(' · ')
    : '';

function health(s: DashboardState): Raw {
  if (!s.health.available) {
    return html`<p class="warn" data-monitor="absent">${s.health.reason}: start it with <code class="command">${s.health.command}</code></p>`;
  }
  const m = s.health.monitor;
  const rows = m.regions.map(
    (r) => html`<tr data-region="${r.region}" data-state="${r.state}">
<td>${r.region}${r.region === m.primaryRegion ? ' (primary)' : ' (DR)'}</td>
<td><span class="state ${r.state}">${r.state.toUpperCase()}</span></td>
<td>${r.latencyMs === undefined ? '—' : `${r.latencyMs} ms`}</td>
<td>${when(r.since)}</td>
<td>${r.reasons.length ? r.reasons.map((x) => html`<div>${x.message}</div>`) : '—'}</td></tr>`,
  );
  // Account DR: each recovery account's reach and cross-account replicas (a denied primary is degraded, never an outage).
  const accounts = (m.accounts ?? []).map(
    (a) => html`<tr data-account="${a.accountId}" data-state="${a.state}">
<td>${a.accountId}</td>
<td><span class="state ${a.state}">${a.state.toUpperCase()}</span></td>
<td>primary ${a.primaryReach}, recovery ${a.recoveryReach}</td>
<td>${countsText(a.replicas) || '—'}</td>
<td>${when(a.since)}</td>
<td>${a.reasons.length ? a.reasons.map((x) => html`<div>${x}</div>`) : '—'}</td></tr>`,
  );
  return html`<p class="meta">monitor <code>${m.workflowId}</code>: ${m.cycles} cycle(s) every ${formatDuration(m.intervalMs)}, last ${when(m.updatedAt)}${m.recoveryRequestedAt ? `, recovery requested at ${when(m.recoveryRequestedAt)}` : ''}</p>
<table id="health-matrix"><thead><tr><th>Region</th><th>health</th><th>latency</th><th>since</th><th>reasons</th></tr></thead><tbody>${rows}</tbody></table>${
    accounts.length
      ? html`
<table id="account-health"><thead><tr><th>recovery account</th><th>health</th><th>reach</th><th>cross-account replicas</th><th>since</th><th>reasons</th></tr></thead><tbody>${accounts}</tbody></table>`
      : ''
  }`;
}

function operation(op: OperationView): Raw {
  const pct = op.total ? Math.round(((op.done ?? 0) / op.total) * 100) : undefined;
  return html`<article class="operation" data-kind="${op.kind}" data-workflow-id="${op.workflowId}">
<h3><span class="kind">${op.kind}</span> <code>${op.workflowId}</code></h3>
<p>step <strong class="step">${op.step ?? '—'}</strong> · started ${when(op.startedAt)}</p>
${op.total !== undefined ? html`<p class="progress"><progress max="${op.total}" value="${op.done ?? 0}"></progress> <span class="done" data-done="${op.done ?? 0}" data-total="${op.total}">${op.done ?? 0}/${op.total}</span> secrets (${pct ?? 0} %)</p>` : ''}
${op.counts ? html`<p class="counts">${countsText(op.counts)}</p>` : ''}
${op.notes.length ? html`<ul class="notes">${op.notes.map((n) => html`<li>${n}</li>`)}</ul>` : ''}
${op.commands.length ? html`<p class="commands">${op.commands.map((c) => html`<code class="command">${c}</code> `)}</p>` : ''}
${op.rows?.length ? outcomeTable(op.rows, 'live-outcomes') : ''}
</article>`;
}

/** Per-secret outcomes: names and outcomes only, never a value. */
function outcomeTable(rows: ReadonlyArray<{ secret: string; region?: string; status: string; detail?: string }>, cls: string): Raw {
  return html`<table class="${cls}"><thead><tr><th>secret</th><th>Region</th><th>outcome</th><th>detail</th></tr></thead><tbody>${rows.map(
    (r) => html`<tr data-secret="${r.secret}"><td>${r.secret}</td><td>${r.region ?? '—'}</td><td>${r.status}</td><td>${r.detail ?? ''}</td></tr>`,
  )}</tbody></table>`;
}

function operations(s: DashboardState): Raw {
  if (s.operations.length === 0) return html`<p class="empty">No operation is running for plan ${s.plan.name}.</p>`;
  return html`${s.operations.map(operation)}`;
}

function approvals(s: DashboardState): Raw {
  if (s.approvals.length === 0) return html`<p class="empty">Nothing is waiting for a person.</p>`;
  return html`${s.approvals.map(
    (a) => html`<article class="approval" data-workflow-id="${a.workflowId}" data-kind="${a.kind}">
<p><strong>${a.kind}</strong> <code>${a.workflowId}</code> waits at <strong>${a.step}</strong>${a.subject ? html` for <code>${a.subject}</code>` : ''} since ${when(a.requestedAt)} (times out after ${formatDuration(a.timeoutMs)})</p>
<p>approve: <code class="command approve">${a.approve}</code></p>
<p>reject: <code class="command reject">${a.reject}</code></p>
</article>`,
  )}`;
}

function finished(s: DashboardState): Raw {
  if (s.finished.length === 0) return html`<p class="empty">No finished setup, failover or failback yet.</p>`;
  return html`${s.finished.map(
    (f, i) => html`<details class="finished" data-kind="${f.kind}" data-workflow-id="${f.workflowId}"${i === 0 ? raw(' open') : ''}>
<summary><span class="kind">${f.kind}</span> <code>${f.workflowId}</code>: <strong>${f.outcome ?? f.status.toLowerCase()}</strong> · ${when(f.closedAt)}${f.counts ? ` · ${countsText(f.counts)}` : ''}</summary>
${f.summary ? html`<p>${f.summary}</p>` : ''}
${f.rows.length ? outcomeTable(f.rows, 'outcomes') : html`<p class="empty">no per-secret outcomes in its result</p>`}
${f.more ? html`<p>and ${f.more} more (the full table: the workflow's result)</p>` : ''}
</details>`,
  )}`;
}

function drills(s: DashboardState): Raw {
  const reports = s.drills.flatMap((d) => (d.report ? [d.report] : [])) as DrillReport[];
  const rows = s.drills.map(
    (d) =>
      html`<tr data-drill="${d.workflowId}"><td>${when(d.startedAt)}</td><td><code>${d.workflowId}</code></td><td>${d.report?.outcome ?? d.status.toLowerCase()}</td><td>${formatFigure(d.report?.rtoMs)}</td><td>${formatFigure(d.report?.rpoMs)}</td></tr>`,
  );
  return html`<div class="chart">${raw(renderTrendChart(reports, s.plan.rtoTargetMs))}</div>
${rows.length ? html`<table id="drill-list"><thead><tr><th>when</th><th>drill</th><th>result</th><th>RTO</th><th>RPO</th></tr></thead><tbody>${rows}</tbody></table>` : ''}
${reports.map(
  (r, i) =>
    html`<details class="timeline" data-drill="${r.workflowId}"${i === 0 ? raw(' open') : ''}><summary>timeline of <code>${r.workflowId}</code> (${r.outcome})</summary>${raw(renderDrillSvg(r))}</details>`,
)}`;
}

function problems(s: DashboardState): Raw {
  if (s.problems.length === 0) return html``;
  return html`<div class="warn"><strong>Not everything could be read:</strong><ul>${s.problems.map((p) => html`<li>${p}</li>`)}</ul></div>`;
}

const RENDER: Record<SectionId, (s: DashboardState) => Raw> = { health, operations, approvals, finished, drills, problems };

export function renderSections(s: DashboardState): Record<SectionId, string> {
  return Object.fromEntries(SECTION_IDS.map((id) => [id, RENDER[id](s).html])) as Record<SectionId, string>;
}

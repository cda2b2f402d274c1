/**
 * The dashboard page: one HTML document with no external asset. Live, it carries a small script
 * that polls `api/state` and replaces the sections that changed; exported, it carries no script at
 * all (the data is inlined as rendered sections plus a JSON data block for machines). Its Content Security
 * Policy allows exactly its own inline style and script, by hash.
 */
import { createHash } from 'node:crypto';
import { html, raw } from './html.js';
import type { DashboardState } from './model.js';
import { SECTION_IDS, renderSections, type SectionId } from './sections.js';

const STYLE = `
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 0; color: #1d232a; background: #f4f6f8; }
header { background: #1d2733; color: #fff; padding: 12px 24px; display: flex; gap: 24px; align-items: baseline; flex-wrap: wrap; }
header h1 { font-size: 20px; margin: 0; }
#live-status { margin-left: auto; font-size: 12px; color: #c9d3dd; }
main { padding: 8px 24px 40px; display: grid; gap: 16px; }
section { background: #fff; border-radius: 6px; padding: 8px 16px 16px; box-shadow: 0 1px 2px rgba(0,0,0,.08); }
section h2 { font-size: 16px; margin: 8px 0; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid #e5e8eb; vertical-align: top; }
code { font: 12px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; background: #eef1f4; padding: 1px 4px; border-radius: 3px; }
code.command { background: #1d2733; color: #e7edf3; padding: 2px 6px; user-select: all; }
.state { font-weight: bold; padding: 1px 6px; border-radius: 3px; color: #fff; }
.state.healthy { background: #2e7d32; } .state.degraded { background: #ef6c00; } .state.unhealthy { background: #c62828; }
.operation, .approval { border-left: 4px solid #1565c0; padding: 4px 12px; margin: 8px 0; background: #f8fafc; }
.approval { border-left-color: #ef6c00; }
.operation h3 { font-size: 14px; margin: 4px 0; }
.kind { text-transform: uppercase; font-size: 12px; font-weight: bold; color: #1565c0; }
progress { width: 320px; height: 14px; vertical-align: middle; }
.warn { background: #fff4e5; border-left: 4px solid #ef6c00; padding: 6px 12px; }
.empty, .meta { color: #5f6b76; }
details { margin: 6px 0; } summary { cursor: pointer; }
svg { max-width: 100%; height: auto; }
`;

/** Polls the state endpoint and swaps the sections whose HTML changed (their open <details> survive otherwise). */
const SCRIPT = `
(function () {
  var cfg = JSON.parse(document.getElementById('dashboard-config').textContent);
  var status = document.getElementById('live-status');
  var last = {};
  function tick() {
    fetch('api/state', { cache: 'no-store', credentials: 'same-origin', headers: { accept: 'application/json' } })
      .then(function (res) {
        if (res.status === 401) { status.textContent = 'the access token was refused: open the URL secrets-dr dashboard printed'; return null; }
        if (!res.ok) throw new Error('HTTP ' + res.status);
        return res.json();
      })
      .then(function (body) {
        if (!body) return;
        Object.keys(body.sections).forEach(function (id) {
          var el = document.getElementById(id);
          if (el && last[id] !== body.sections[id]) { el.innerHTML = body.sections[id]; last[id] = body.sections[id]; }
        });
        status.textContent = 'live, updated ' + body.state.generatedAt;
        document.body.setAttribute('data-updated-at', body.state.generatedAt);
        setTimeout(tick, cfg.intervalMs);
      })
      .catch(function (err) {
        status.textContent = 'cannot reach the dashboard (' + err.message + '); retrying';
        setTimeout(tick, cfg.intervalMs);
      });
  }
  setTimeout(tick, cfg.intervalMs);
})();
`;

const sha256 = (s: string) => `'sha256-${createHash('sha256').update(s, 'utf8').digest('base64')}'`;

/** The policy of the live page (sent as a header, where frame-ancestors is honoured). */
export const LIVE_CSP = `default-src 'none'; script-src ${sha256(SCRIPT)}; style-src ${sha256(STYLE)}; connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`;
/** The exported page's policy (a meta element: no script at all, nothing to connect to). */
export const EXPORT_CSP = `default-src 'none'; style-src ${sha256(STYLE)}; img-src data:; base-uri 'none'; form-action 'none'`;

const TITLES: Record<SectionId, string> = {
  health: 'Region health (from the monitor)',
  operations: 'Running operations',
  approvals: 'Pending approvals',
  finished: 'Finished operations: per-secret outcomes',
  drills: 'Drills: RTO and RPO against the target',
  problems: '',
};

/** JSON inside a script data block: `<` escaped, so no text in it can close the element. */
const dataBlock = (value: unknown) => JSON.stringify(value).replace(/</g, '\\u003c');

export function renderPage(state: DashboardState, mode: { live: true; intervalMs: number } | { live: false }): string {
  const sections = renderSections(state);
  const body = SECTION_IDS.map((id) =>
    id === 'problems'
      ? html`<div id="problems">${raw(sections[id])}</div>`
      : html`<section aria-labelledby="h-${id}"><h2 id="h-${id}">${TITLES[id]}</h2><div id="${id}">${raw(sections[id])}</div></section>`,
  );
  const regions = `${state.plan.primaryRegion} (primary) → ${state.plan.drRegions.join(', ')}`;
  const status = mode.live ? 'live' : `exported ${state.generatedAt} (a static copy: not live)`;
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8">
${mode.live ? '' : html`<meta http-equiv="Content-Security-Policy" content="${EXPORT_CSP}">`}
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<link rel="icon" href="data:,">
<title>secrets-dr · ${state.plan.name}</title>
<style>${raw(STYLE)}</style></head>
<body data-updated-at="${state.generatedAt}" data-mode="${mode.live ? 'live' : 'export'}">
<header><h1>secrets-dr · plan ${state.plan.name}</h1><span>${regions}</span><span>read-only</span><span id="live-status">${status}</span></header>
<main>${body}</main>
${
  mode.live
    ? html`<script type="application/json" id="dashboard-config">${raw(dataBlock({ intervalMs: mode.intervalMs }))}</script><script>${raw(SCRIPT)}</script>`
    : html`<script type="application/json" id="dashboard-data">${raw(dataBlock(state))}</script>`
}
</body></html>
`.html;
}

/**
 * The incident-room dashboard in a real headless Chromium (Debian's `chromium`, provisioned by
 * `scripts/bootstrap.mjs --tools`), on the dev server + the lab: a monitor and a drill have run,
 * a failover of seeded secrets waits for approval, then promotes while the page is open. The page
 * must show the health matrix, the running failover with live progress, the pending approval with
 * its command; it must log no console or page error and never hold a seeded secret value — nor
 * may the exported HTML. The token is required on every request.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { findChromium } from '../../scripts/tools.mjs';
import { failoverWorkflowId, monitorWorkflowId, workflowTaskQueue } from '../../domain/ids.js';
import type { FailoverInput } from '../../domain/failover.js';
import type { Plan } from '../../domain/plan.js';
import { parsePlanText } from '../../cli/plan-file.js';
import { startDrill } from '../../cli/commands/drill.js';
import { main } from '../../cli/main.js';
import { createCollector } from '../../dashboard/collect.js';
import { startDashboardServer, type DashboardServer } from '../../dashboard/server.js';
import { eventually, LAB_ONLY, onAws, startHarness, type Harness } from '../support/integration.js';
import { fastProbes } from '../support/recovery.js';
import { approvalUpdate, pendingApprovalQuery } from '../../workflows/kit/control.messages.js';
import { monitorHealthQuery } from '../../workflows/monitor.messages.js';
import type { monitorWorkflow } from '../../workflows/monitor.workflow.js';
import type { failoverWorkflow } from '../../workflows/failover.workflow.js';

const chromium = findChromium();
if (!chromium.path) console.warn(`[dashboard.test] SKIPPED: ${chromium.missing} (\`node scripts/bootstrap.mjs --tools\` installs it as root)`);
/** Screenshots go here (gitignored), for a person to look at after the run. */
const SHOTS = resolve('test-output/dashboard');

let h: Harness;
let plan: Plan;
let planFile: string;
let server: DashboardServer | undefined;
let browser: Browser | undefined;
const values: string[] = [];
const names: string[] = [];

/** Console errors, page errors, failed requests and HTTP errors of a page: each one fails the test. */
function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (m) => void (m.type() === 'error' && errors.push(`console: ${m.text()}`)));
  page.on('pageerror', (e) => void errors.push(`page error: ${(e as Error).message}`));
  page.on('requestfailed', (r) => void errors.push(`request failed: ${r.url()} ${r.failure()?.errorText ?? ''}`));
  page.on('response', (r) => void (r.status() >= 400 && errors.push(`HTTP ${r.status()}: ${r.url()}`)));
  return errors;
}

function expectNoValue(where: string, text: string): void {
  for (const v of values) expect(text.includes(v), `a seeded secret value appears in ${where}`).toBe(false);
}

async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SHOTS, { recursive: true });
  const path = join(SHOTS, name);
  await page.screenshot({ path, fullPage: true });
  const png = readFileSync(path);
  expect(png.length).toBeGreaterThan(1_000);
  expect(png.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])), `${path} is a PNG`).toBe(true);
}

describe.skipIf(onAws || !chromium.path)(`the dashboard in headless Chromium (${chromium.path ? LAB_ONLY : `skipped: ${chromium.missing}`})`, () => {
  beforeAll(async () => {
    h = await startHarness('dashboard');
    const planText = [
      `name: ${h.plan().name}`,
      `primaryRegion: ${h.primaryRegion}`,
      `drRegions: [{ region: ${h.drRegion} }]`,
      `secrets:\n  include: [{ prefix: "${h.names}" }]`,
      // 5 writes per second: promoting 30 secrets takes ~6 s, long enough to watch.
      'failover:\n  requireApproval: true\n  writeQuotaShare: 0.1',
      'drills:\n  canaries: 1\n  rtoTarget: 30s',
      '',
    ].join('\n');
    const parsed = parsePlanText(planText);
    if (!parsed.plan) throw new Error(JSON.stringify(parsed.problems));
    plan = parsed.plan;
    planFile = join(mkdtempSync(join(tmpdir(), 'dashboard-test-')), 'secrets-dr.yaml');
    writeFileSync(planFile, planText);
    for (let i = 0; i < 30; i++) {
      names.push(`${h.names}app/s${String(i).padStart(2, '0')}`);
      values.push(`dashboard-value-${randomBytes(12).toString('hex')}`);
    }
    await h.lab!.seed(
      h.primaryRegion,
      names.map((name, i) => ({ name, value: values[i]!, replicaRegions: [h.drRegion] })),
    );
    await eventually('replicas of the seeded fleet', async () => ((await h.lab!.status()).pendingReplications === 0 ? true : undefined));
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await h?.client.workflow
      .getHandle(monitorWorkflowId(plan.name))
      .terminate('test over')
      .catch(() => undefined);
    await h?.close();
  });

  it('shows health, the running failover with live progress and its pending approval; token required; no value anywhere; export', async () => {
    // Prepare: a monitor with cycles done, a finished drill, and a failover waiting for approval.
    const monitor = await h.client.workflow.start<typeof monitorWorkflow>('monitorWorkflow', {
      taskQueue: workflowTaskQueue(h.prefix),
      workflowId: monitorWorkflowId(plan.name),
      args: [{ plan: fastProbes(plan, { interval: 1_000 }), taskQueuePrefix: h.prefix }],
      workflowExecutionTimeout: '10m',
    });
    await eventually('two monitor cycles', async () => ((await monitor.query(monitorHealthQuery)).cycles >= 2 ? true : undefined), 30_000);
    const drill = await (await startDrill({ client: h.client, prefix: h.prefix }, plan, 'test')).result();
    expect(drill).toMatchObject({ outcome: 'passed' });

    const failoverId = failoverWorkflowId(plan.name);
    const input: FailoverInput = {
      plan,
      to: h.drRegion,
      mode: 'unplanned',
      skipApproval: false,
      dryRun: false,
      taskQueuePrefix: h.prefix,
      fenceRetryInitialMs: 500,
      batchSize: 5,
    };
    const failover = await h.client.workflow.start<typeof failoverWorkflow>('failoverWorkflow', {
      taskQueue: workflowTaskQueue(h.prefix),
      workflowId: failoverId,
      args: [input],
      workflowExecutionTimeout: '5m',
    });
    await eventually('the failover to wait for approval', async () => (await failover.query(pendingApprovalQuery)) ?? undefined, 30_000);

    server = await startDashboardServer({ collect: createCollector({ client: h.client, plan, planFile }), port: 0, intervalMs: 500, maxAgeMs: 200 });

    // The token: nothing without it (nor with a wrong one), the JSON with it as a bearer token.
    expect((await fetch(server.url)).status).toBe(401);
    expect((await fetch(`${server.url}api/state`)).status).toBe(401);
    expect((await fetch(`${server.url}?token=${server.token.slice(0, -1)}x`)).status).toBe(401);
    expect((await fetch(`${server.url}api/state`, { headers: { authorization: 'Bearer not-the-token' } })).status).toBe(401);
    expect((await fetch(`${server.url}api/state`, { method: 'POST', headers: { authorization: `Bearer ${server.token}` } })).status).toBe(405);
    const api = await fetch(`${server.url}api/state`, { headers: { authorization: `Bearer ${server.token}` } });
    expect(api.status).toBe(200);
    const apiText = await api.text();
    expect(JSON.parse(apiText).state.problems, 'everything could be read').toEqual([]);
    expectNoValue('the JSON endpoint', apiText);

    // Act: the page in Chromium, opened with the printed URL.
    browser = await puppeteer.launch({ executablePath: chromium.path, headless: true, args: process.getuid?.() === 0 ? ['--no-sandbox'] : [] });
    const page = await browser.newPage();
    await page.setViewport({ width: 1280, height: 900 });
    const errors = watchErrors(page);
    const response = await page.goto(server.openUrl, { waitUntil: 'load' });
    expect(response?.status()).toBe(200);
    expect(page.url(), 'the token is dropped from the address bar').toBe(server.url);
    expect(response?.headers()['content-security-policy']).toMatch(/default-src 'none'; script-src 'sha256-/);

    // Assess: the health matrix, the running failover, the approval with its command.
    for (const region of [h.primaryRegion, h.drRegion]) {
      expect(await page.$eval(`#health-matrix tr[data-region="${region}"]`, (tr) => tr.getAttribute('data-state'))).toMatch(/healthy|degraded|unhealthy/);
    }
    const op = `.operation[data-kind="failover"][data-workflow-id="${failoverId}"]`;
    expect(await page.$eval(`${op} .step`, (e) => e.textContent)).toBe('awaitingApproval');
    expect(await page.$eval(`${op} .done`, (e) => e.getAttribute('data-total'))).toBe('30');
    const approval = `.approval[data-workflow-id="${failoverId}"]`;
    expect(await page.$eval(`${approval} code.approve`, (e) => e.textContent)).toBe(`secrets-dr approve ${failoverId}`);
    expect(await page.$eval(`${approval} code.reject`, (e) => e.textContent)).toBe(`secrets-dr reject ${failoverId} --reason TEXT`);
    expect(await page.$$eval('#drill-trend circle.point.rtoMs', (c) => c.length)).toBeGreaterThanOrEqual(1);
    expect(await page.$(`details.timeline[data-drill="${drill.workflowId}"] svg`)).not.toBeNull();
    await screenshot(page, 'awaiting-approval.png');

    // Approve: the open page follows the promotion without a reload.
    await failover.executeUpdate(approvalUpdate, { args: [{ decision: 'approve', by: 'dashboard-test' }] });
    const seen = new Set<number>();
    await eventually(
      `the page to show the failover part-way (done counts seen: ${[...seen].join(', ') || 'none'})`,
      async () => {
        const done = await page.$eval(`${op} .done`, (e) => Number(e.getAttribute('data-done'))).catch(() => undefined);
        if (done !== undefined) seen.add(done);
        // Live per-secret outcomes of the running failover (names and outcomes from its progress answer).
        const live = await page.$$eval(`${op} table.live-outcomes tr[data-secret]`, (trs) => trs.map((tr) => tr.getAttribute('data-secret'))).catch(() => []);
        return done !== undefined && done > 0 && done < 30 && live.length > 0 && live.every((n) => names.includes(n!)) ? done : undefined;
      },
      30_000,
      100,
    );
    expect(await page.$(approval), 'the answered approval is gone').toBeNull();
    await screenshot(page, 'promoting.png');

    const report = await failover.result();
    expect(report.outcome).toBe('done');
    await page.waitForSelector(`details.finished[data-workflow-id="${failoverId}"] tr[data-secret]`, { timeout: 15_000 });
    expect(await page.$(op), 'no longer listed as running').toBeNull();
    // Positive control: the per-secret outcomes are in the DOM (names), so a value would be too if it leaked.
    const rows = await page.$$eval(`details.finished[data-workflow-id="${failoverId}"] tr[data-secret]`, (trs) =>
      trs.map((tr) => tr.getAttribute('data-secret')),
    );
    expect(rows.sort()).toEqual([...names].sort());
    await screenshot(page, 'done.png');
    const dom = (await page.content()) + (await page.$eval('body', (b) => b.textContent));
    expectNoValue('the DOM', dom);
    expect(errors, errors.join('\n')).toEqual([]);

    // Export: the same page as one static file, through the CLI.
    process.env.TEMPORAL_ADDRESS = inject('temporalAddress');
    const out = join(SHOTS, 'export.html');
    mkdirSync(SHOTS, { recursive: true });
    expect(await main(['dashboard', '-f', planFile, '--export', out])).toBe(0);
    const exported = readFileSync(out, 'utf8');
    expectNoValue('the exported HTML', exported);
    expect(exported).toContain('http-equiv="Content-Security-Policy"');
    expect(exported).not.toMatch(/<script(?![^>]*type="application\/json")/);
    for (const n of names) expect(exported).toContain(`data-secret="${n}"`);
    const file = await browser.newPage();
    const fileErrors = watchErrors(file);
    await file.goto(`file://${out}`, { waitUntil: 'load' });
    expect(await file.$$eval('#health-matrix tr[data-region]', (trs) => trs.length)).toBe(2);
    expect(await file.$('#drill-trend')).not.toBeNull();
    await screenshot(file, 'export.png');
    expect(fileErrors, fileErrors.join('\n')).toEqual([]);

    // A stopped monitor still answers its query (with stale health): the page says it is not running instead.
    await monitor.terminate('the dashboard test stops it');
    const after = await createCollector({ client: h.client, plan, planFile })();
    expect(after.health).toMatchObject({
      available: false,
      reason: expect.stringMatching(/is not running \(terminated at /),
      command: `secrets-dr monitor start -f ${planFile}`,
    });
  }, 240_000);
});

/**
 * `secrets-dr demo`: the story on the embedded local stack (lab + Temporal dev server + worker, all
 * started here and stopped at the end unless --keep). The fleet is the one of the Secrets Manager
 * replication walkthrough this product grew from: primary ap-northeast-1 (Tokyo), DR
 * ap-northeast-3 (Osaka), including the classic trap: a same-named secret already in Osaka.
 * The story: setup (conflict resolved by backup) → monitor, outage, automatic failover
 * (demo-recovery.ts) → rotation in the DR Region and failback (demo-failback.ts) → a drill
 * (demo-drill.ts) → one final report. A stage whose file is not in the build is announced as not
 * available and the others still run (without the recovery stage, failover runs by runbook).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { ExitCode } from '../../domain/errors.js';
import { formatDuration } from '../../domain/duration.js';
import { planRegions, type Plan } from '../../domain/plan.js';
import { LabClient } from '../../lab/client.js';
import { exportLines, stackEnv } from '../../lab/stack.js';
import { installRuntime, logLevelFromEnv } from '../../worker/runtime.js';
import { defineCommand } from '../command.js';
import { loadPlanFile, parsePlanText } from '../plan-file.js';
import { policyFor } from '../../domain/iam.js';
import { createRegionClients } from '../../worker/aws-clients.js';
import { createAccountClients } from '../../worker/account-clients.js';
import { demoAccountStage } from './demo-account.js';
import { printJson } from '../output.js';
import { startEmbeddedStack } from '../embedded-stack.js';
import { fetchStatus, renderStatus } from './status.js';
import { demoFailoverStage, type DemoFailoverContext } from './demo-failover.js';
import { demoDrillStage } from './demo-drill.js';
import { DEFAULT_REPORTS_DIR } from './drill.js';
import { formatFigure, renderDrillMarkdown } from '../../domain/drill-report.js';
import type { DrillReport } from '../../domain/drill.js';
import { renderSetup, runSetup } from './setup.js';
import { scanForLeaks, type LeakScan } from './demo-leak-scan.js';

/** The demo worker's lab access key: the lab binds the generated worker policy to it. */
const DEMO_WORKER_CREDENTIALS = { accessKeyId: 'secrets-dr-demo-worker', secretAccessKey: 'secrets-dr-demo-worker' };

const DEMO_PLAN = `# secrets-dr.yaml (written by \`secrets-dr demo\`)
name: payments
primaryRegion: ap-northeast-1
drRegions:
  - region: ap-northeast-3
secrets:
  include:
    - prefix: prod/payments/
    - tag: { key: dr-tier, value: "0" }
    - name: prod/App/Mysql
  exclude:
    - prefix: prod/payments/scratch/
conflicts:
  policy: backup-then-overwrite
failover:
  groups:
    - name: tier0
      match: { tag: { key: dr-tier, value: "0" } }
rotation:
  ap-northeast-1: arn:aws:lambda:ap-northeast-1:123456789012:function:rotate-payments
  ap-northeast-3: arn:aws:lambda:ap-northeast-3:123456789012:function:rotate-payments
`;

const PRIMARY = 'ap-northeast-1';
const DR = 'ap-northeast-3';

/** Demo values are random and never printed; they are remembered only to scan for leaks at the end. */
const seededValues: string[] = [];
const demoValue = (kind: 'json' | 'token') => {
  const secret = randomBytes(kind === 'json' ? 18 : 24).toString('base64url');
  seededValues.push(secret);
  return kind === 'json' ? JSON.stringify({ username: 'app', password: secret, host: 'db.internal', port: 3306 }) : secret;
};

async function seedFleet(lab: LabClient, plan: Plan): Promise<void> {
  // Rotation runs Lambda functions, as on AWS: the plan's rotation functions exist in the lab.
  await lab.ensureFunctions(Object.values(plan.rotation));
  const tier0 = [{ Key: 'dr-tier', Value: '0' }];
  await lab.seed(PRIMARY, [
    { name: 'prod/App/Mysql', value: demoValue('json'), tags: tier0, replicaRegions: [DR] },
    { name: 'prod/payments/stripe-api-key', value: demoValue('token'), replicaRegions: [DR] },
    { name: 'prod/payments/db-password', value: demoValue('json'), tags: tier0, replicaRegions: [DR] },
    { name: 'prod/payments/webhook-signing-key', value: demoValue('token') },
    { name: 'prod/payments/ledger-token', value: demoValue('token') },
    { name: 'prod/payments/scratch/tmp-export', value: demoValue('token') },
    { name: 'staging/payments/api-key', value: demoValue('token') },
  ]);
  // The classic trap: someone created the same name in Osaka by hand, long ago.
  await lab.seed(DR, [{ name: 'prod/payments/webhook-signing-key', value: demoValue('token'), description: 'created by hand in Osaka' }]);
}

interface StageResult {
  name: string;
  status: 'done' | 'failed' | 'not available';
  ms: number;
  note?: string;
}

type StageFn = (ctx: DemoFailoverContext & { reportsDir: string }) => Promise<unknown>;

/** A stage from another file, if that file is in this build (`.js` built, `.ts` under tests). */
async function optionalStage(file: string, exportName: string): Promise<StageFn | undefined> {
  for (const ext of ['.js', '.ts']) {
    const url = new URL(`./${file}${ext}`, import.meta.url);
    if (!existsSync(fileURLToPath(url))) continue;
    const mod = (await import(url.href)) as Record<string, unknown>;
    const fn = mod[exportName] ?? Object.entries(mod).find(([k, v]) => /^demo\w*Stage$/.test(k) && typeof v === 'function')?.[1];
    return typeof fn === 'function' ? (fn as StageFn) : undefined;
  }
  return undefined;
}

/** The final report: every stage, the drill's figures, and where to look next. */
function finalReport(
  stages: StageResult[],
  drill: DrillReport | undefined,
  ui: string,
  files: string[],
  leaks: LeakScan | undefined,
  workerLog: string,
): string[] {
  const lines = ['# secrets-dr demo — final report', '', '| stage | result | took | note |', '|---|---|---|---|'];
  for (const s of stages)
    lines.push(`| ${s.name} | ${s.status} | ${s.status === 'not available' ? '—' : formatDuration(s.ms)} | ${(s.note ?? '').replace(/\|/g, '\\|')} |`);
  lines.push('');
  if (drill) {
    lines.push(
      `Drill: ${drill.outcome.toUpperCase()} — RTO ${formatFigure(drill.rtoMs)} against a target of ${formatDuration(drill.rtoTargetMs)}, RPO ${formatFigure(drill.rpoMs)}; ${drill.cleanup.remaining.length === 0 ? 'no canary left behind' : `LEFT BEHIND: ${drill.cleanup.remaining.join(', ')}`}.`,
    );
    lines.push('');
  }
  lines.push(`Temporal UI (every step above is a workflow there): ${ui}`);
  if (files.length) lines.push(`Drill reports: ${files.join(', ')}`);
  lines.push(`Worker log: ${workerLog}`);
  if (leaks) {
    lines.push(
      leaks.found.length === 0
        ? `Leak scan: none of the ${leaks.values} seeded secret values appears in the ${leaks.histories} workflow histories, ${leaks.events} EventBridge events, ${leaks.outputLines} lines of this output or ${leaks.reportFiles} report files.`
        : `LEAK: a seeded secret value appears in: ${leaks.found.join('; ')}`,
    );
  }
  return lines;
}

export const demoCommand = defineCommand({
  words: ['demo'],
  summary: 'the whole story on the embedded local stack, with a report',
  examples: ['secrets-dr demo', 'secrets-dr demo --keep', 'secrets-dr demo --reports /tmp/dr-reports --json'],
  options: {
    keep: { type: 'boolean', default: false, description: 'keep the local stack running after the story (Ctrl-C stops it), in ./.secrets-dr-demo' },
    reports: {
      type: 'string',
      default: DEFAULT_REPORTS_DIR,
      placeholder: 'DIR',
      description: 'where the drill and demo reports (and the worker log) are written',
    },
  },
  schema: z.object({ keep: z.boolean(), reports: z.string().min(1), json: z.boolean(), positionals: z.array(z.string()).max(0) }),
  async run(opts, io) {
    const started = Date.now();
    // Everything the demo prints is kept, so the leak scan at the end can search it too.
    const output: string[] = [];
    const { out, err } = io;
    io = { ...io, out: (l) => (output.push(l), out(l)), err: (l) => (output.push(l), err(l)) };
    const say = (line: string) => (io.json ? io.err(line) : io.out(line));
    const home = opts.keep ? join(process.cwd(), '.secrets-dr-demo') : mkdtempSync(join(tmpdir(), 'secrets-dr-demo-'));
    mkdirSync(home, { recursive: true });
    const cleanups: Array<() => Promise<void>> = [];
    const cleanup = async () => {
      for (const c of cleanups.reverse()) await c().catch(() => undefined);
    };
    try {
      say('secrets-dr demo — Tokyo (ap-northeast-1) protected by Osaka (ap-northeast-3), on the local stack');
      say('');
      say('[1/5] starting the local stack: lab (Secrets Manager + EventBridge emulator), Temporal dev server, worker');
      // The worker's log lines go to a file, not between the lines of this story.
      const reportsDir = resolve(opts.reports);
      mkdirSync(reportsDir, { recursive: true });
      const workerLog = join(reportsDir, 'demo-worker.log');
      writeFileSync(workerLog, '');
      installRuntime({ level: logLevelFromEnv('WARN'), logFile: workerLog });
      // The worker runs under the worker policy generated for the demo plan (`secrets-dr iam-policy`), enforced by the lab.
      const workerPolicy = policyFor('worker', parsePlanText(DEMO_PLAN).plan!);
      const stack = await startEmbeddedStack({
        home,
        regions: [PRIMARY, DR],
        lab: {
          regions: [PRIMARY, DR, 'us-east-1'],
          iamPolicies: [{ accessKeyId: DEMO_WORKER_CREDENTIALS.accessKeyId, policy: workerPolicy, source: 'iam-policy --role worker (demo plan)' }],
        },
        clientsFor: (region) => createRegionClients(region, { requestTimeoutMs: 15_000, credentials: DEMO_WORKER_CREDENTIALS }),
        accountClientsFor: createAccountClients({ requestTimeoutMs: 15_000, credentials: DEMO_WORKER_CREDENTIALS }),
      });
      cleanups.push(() => stack.close());
      const { lab, temporal, client: c } = stack;
      say(`      lab ${lab.url} · Temporal ${temporal.address} · UI ${temporal.ui}`);
      say(`      worker log: ${workerLog} (kept out of this story; Temporal's log: ${join(home, 'logs')})`);
      say(
        `      the worker signs as ${DEMO_WORKER_CREDENTIALS.accessKeyId}; the lab enforces its generated IAM policy (${workerPolicy.Statement.length} statements)`,
      );

      say(
        "[2/5] seeding the fleet in Tokyo: 7 secrets, 3 already replicated to Osaka, 1 same-named secret already in Osaka; the plan's rotation functions (rotate-payments in Tokyo and Osaka)",
      );
      const planPath = join(home, 'secrets-dr.yaml');
      writeFileSync(planPath, DEMO_PLAN);
      const { plan } = loadPlanFile(planPath);
      await seedFleet(new LabClient(lab.url), plan);
      await new Promise((r) => setTimeout(r, 1_000)); // the lab's replication lag is ~300 ms

      say(`[3/5] secrets-dr status -f ${planPath}   (a Temporal workflow; ListSecrets pages, not one call per secret)`);
      say('');
      const report = await fetchStatus(c, plan);
      if (io.json) printJson(io, { plan: planPath, status: report, elapsedMs: Date.now() - started });
      else renderStatus(report, io);

      say('');
      say('what this shows:');
      say(`  - ${report.counts[DR]?.InSync ?? 0} secrets are replicated and in sync in Osaka;`);
      say(`  - ${report.counts[DR]?.missing ?? 0} are not replicated yet (missing in Osaka);`);
      say(`  - ${report.counts[DR]?.conflict ?? 0} has a same-named secret in Osaka that is NOT our replica: replicating it naively would fail,`);
      say('    and "retry with overwrite" would destroy that secret\'s value and change its ARN (secrets-dr resolves it with a backup first).');
      say(`  - excluded by the plan: prod/payments/scratch/*, and staging/* is not selected. Regions: ${planRegions(plan).join(', ')}.`);

      say('');
      say(`[4/5] secrets-dr setup --wait -f ${planPath}   (replicate everything; the same-named secret in Osaka is backed up first)`);
      say('');
      const setup = await runSetup(c, plan, io, { wait: true });
      if (setup.report) {
        if (io.json) printJson(io, { setup: setup.report });
        else renderSetup(setup.report, io);
      }
      say('');
      say(`[5/5] secrets-dr status -f ${planPath}   (again)`);
      say('');
      const after = await fetchStatus(c, plan);
      if (io.json) printJson(io, { status: after });
      else renderStatus(after, io);
      say('');
      const backup = setup.report?.outcomes.find((o) => o.backup);
      if (backup) {
        say(`the same-named secret ${backup.secret} in Osaka was saved to ${backup.backup} (its AWSCURRENT and AWSPREVIOUS) before it was overwritten;`);
        if (backup.arnChange) say(`its ARN changed ${backup.arnChange.from} → ${backup.arnChange.to}: consumers that pinned the old ARN must be updated.`);
        say('undo with `secrets-dr backups restore BACKUP_NAME --yes` (see `secrets-dr backups list`).');
      }
      const stages: StageResult[] = [
        {
          name: 'setup (conflict resolved by backup)',
          status: setup.code === ExitCode.Ok ? 'done' : 'failed',
          ms: Date.now() - started,
          ...(backup?.backup ? { note: `backup ${backup.backup}` } : {}),
        },
      ];
      const ctx = { c, plan, labUrl: lab.url, io, say, reportsDir };
      const run = async (name: string, fn: StageFn | undefined, missing?: string): Promise<unknown> => {
        if (!fn) {
          stages.push({ name, status: 'not available', ms: 0, note: missing ?? 'not in this build' });
          say('');
          say(`[${name}] not available in this build${missing ? ` (${missing})` : ''}`);
          return undefined;
        }
        const t0 = Date.now();
        try {
          const out = await fn(ctx);
          stages.push({ name, status: 'done', ms: Date.now() - t0 });
          return out;
        } catch (err) {
          stages.push({ name, status: 'failed', ms: Date.now() - t0, note: (err as Error).message.split('\n')[0] });
          say(`[${name}] FAILED: ${(err as Error).message}`);
          return undefined;
        }
      };
      const recovery = await optionalStage('demo-recovery', 'demoRecoveryStage');
      if (recovery) await run('monitor → outage → automatic failover', recovery);
      else {
        stages.push({
          name: 'monitor → outage → automatic failover',
          status: 'not available',
          ms: 0,
          note: 'demo-recovery stage not in this build: failover by runbook instead',
        });
        say('');
        say('[recovery] the automatic-failover stage (demo-recovery) is not in this build: failover by runbook instead');
        await run('outage → failover (runbook)', demoFailoverStage);
      }
      await run('rotation in the DR Region → failback', await optionalStage('demo-failback', 'demoFailbackStage'), 'demo-failback stage not in this build');
      const drill = (await run('DR drill (canaries)', demoDrillStage as StageFn)) as Awaited<ReturnType<typeof demoDrillStage>> | undefined;
      if (drill) {
        const last = stages[stages.length - 1]!;
        if (drill.report.outcome !== 'passed') last.status = 'failed';
        last.note = `${drill.report.outcome}: RTO ${formatFigure(drill.report.rtoMs)} (target ${formatDuration(drill.report.rtoTargetMs)}), RPO ${formatFigure(drill.report.rpoMs)}`;
      }

      // Last: it revokes (then restores) the primary account's keys.
      await run('the account is compromised → failover to the recovery account', () =>
        demoAccountStage({ ...ctx, seeded: seededValues, workerKey: DEMO_WORKER_CREDENTIALS.accessKeyId, planText: DEMO_PLAN }),
      );

      const files = drill ? [drill.files.markdown, drill.files.svg, drill.files.json] : [];
      const leaks = await scanForLeaks(c.client, new LabClient(lab.url), plan.name, seededValues, output, [reportsDir]).catch(() => undefined);
      if (leaks?.found.length) stages.push({ name: 'leak scan', status: 'failed', ms: 0, note: leaks.found.join('; ') });
      const summary = finalReport(stages, drill?.report, temporal.ui, files, leaks, workerLog);
      mkdirSync(reportsDir, { recursive: true });
      const demoReport = join(reportsDir, 'demo-report.md');
      writeFileSync(demoReport, [...summary, '', ...(drill ? [renderDrillMarkdown(drill.report).replace(/^# /, '## ')] : [])].join('\n'));
      if (io.json) printJson(io, { stages, drill: drill?.report, report: demoReport, temporalUi: temporal.ui });
      say('');
      say('================================================================');
      for (const l of summary) say(l);
      say(`Final report: ${demoReport}`);
      say(`demo finished in ${formatDuration(Date.now() - started)}.`);
      say('================================================================');
      const ok = stages.every((s) => s.status !== 'failed');
      if (opts.keep) {
        say('');
        say('the stack stays up (Ctrl-C to stop). In another shell:');
        for (const l of exportLines(stackEnv(stack.info))) say(`  ${l}`);
        say(`  secrets-dr status -f ${planPath}`);
        await new Promise<void>((res) => {
          process.once('SIGINT', () => res());
          process.once('SIGTERM', () => res());
        });
      }
      return ok ? ExitCode.Ok : ExitCode.Failed;
    } finally {
      await cleanup();
      if (!opts.keep) rmSync(home, { recursive: true, force: true });
    }
  },
});

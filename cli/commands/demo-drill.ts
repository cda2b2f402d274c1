/**
 * The demo's drill stage: `secrets-dr drill run --wait` on canary secrets (never the fleet):
 * leftovers swept, canaries created in Tokyo, replicated to Osaka, a canary version written and
 * its arrival in Osaka timed (RPO), promoted in Osaka (RTO against the plan's target), verified
 * by HMAC, cleaned up in both Regions; reports written (JSON, Markdown, SVG timeline).
 */
import { formatDuration } from '../../domain/duration.js';
import type { DrillReport } from '../../domain/drill.js';
import type { Plan } from '../../domain/plan.js';
import { printJson, type Io } from '../output.js';
import type { Connected } from '../temporal.js';
import { renderDrillSummary, startDrill, writeDrillReports } from './drill.js';

interface DemoDrillContext {
  c: Connected;
  plan: Plan;
  io: Io;
  say: (line: string) => void;
  reportsDir: string;
}

export async function demoDrillStage({
  c,
  plan,
  io,
  say,
  reportsDir,
}: DemoDrillContext): Promise<{ report: DrillReport; files: { json: string; markdown: string; svg: string } }> {
  say('');
  say(
    `[drill] secrets-dr drill run --wait --reports ${reportsDir}   (${plan.drills.canaries} canaries secrets-dr-drill/${plan.name}/<n>; production secrets are not touched)`,
  );
  const handle = await startDrill({ client: c.client, prefix: c.env.SECRETS_DR_TASK_QUEUE_PREFIX }, plan, 'demo');
  const report = await handle.result();
  const files = writeDrillReports(report, reportsDir);
  if (io.json) printJson(io, { drill: report, files });
  else {
    renderDrillSummary(report, io);
    say(`  steps: ${report.steps.length} bars over ${formatDuration(report.durationMs)}; reports: ${files.markdown}, ${files.svg}, ${files.json}`);
  }
  return { report, files };
}

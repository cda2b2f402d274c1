/**
 * monitor (long-running per plan, id `secrets-dr/<plan>/monitor`): every `plan.health.interval`
 * it surveys each Region (one probe call for reachability + latency, then the ListSecrets pages),
 * derives findings (replication, parity, rotation freshness, pending fences), and feeds each
 * Region's health machine (monitor.steps.ts). ONE `Health Changed` event per change, never per
 * cycle. When the primary turns unhealthy and the plan allows automatic failover, it hands a hint
 * to `recover`. The `health` query answers from memory (no AWS call). History stays bounded:
 * continue-as-new every `cyclesPerRun` cycles (or sooner when Temporal suggests it), carrying the
 * JSON-plain per-Region health. With `recoveryAccounts`, each cycle also checks every recovery account
 * (monitor-accounts.steps.ts): its reach and its cross-account replicas, in `health` and in Health Changed;
 * account health never starts a failover (a denied primary is reported, invariant 9).
 */
import { condition, continueAsNew, setHandler, workflowInfo } from '@temporalio/workflow';
import type { MonitorHealth, MonitorInput } from '../domain/health.js';
import { monitorHealthQuery, monitorStopSignal } from './monitor.messages.js';
import { MonitorRun } from './monitor.steps.js';

const DEFAULT_CYCLES_PER_RUN = 50;
/** Safety net besides cyclesPerRun: big fleets put large inventories into history. */
const MAX_HISTORY_EVENTS = 2_000;
const MAX_HISTORY_BYTES = 8 * 1024 * 1024;

export async function monitorWorkflow(raw: MonitorInput): Promise<MonitorHealth> {
  const run = new MonitorRun(raw);
  const { plan } = run.input;
  const cyclesPerRun = run.input.cyclesPerRun ?? DEFAULT_CYCLES_PER_RUN;
  let stop = false;
  setHandler(monitorHealthQuery, () => run.health());
  setHandler(monitorStopSignal, () => void (stop = true));

  for (let inRun = 1; ; inRun++) {
    const surveys = await run.survey();
    await run.checkReadPaths(surveys);
    const at = await run.observe(surveys);
    await run.observeAccounts(surveys, at); // account DR (plans with recoveryAccounts): reach and cross-account replicas
    run.cycles++;
    run.updatedAt = at;
    // interval 0: cycles back to back (a timer costs ≥ 1 s on some servers; used by tests and benchmarks).
    if (stop || (plan.health.interval > 0 && (await condition(() => stop, plan.health.interval)))) break;
    const wf = workflowInfo();
    if (inRun >= cyclesPerRun || wf.continueAsNewSuggested || wf.historyLength > MAX_HISTORY_EVENTS || wf.historySize > MAX_HISTORY_BYTES) {
      await continueAsNew<typeof monitorWorkflow>({ ...run.input, carry: run.carry() });
    }
  }
  return run.health();
}

/**
 * Collects the dashboard's state from Temporal alone (the dashboard calls no AWS API): the
 * monitor's health query, the plan's running workflows from the visibility list with each one's
 * progress and pending-approval queries, the last finished operations' reports, and past drills.
 * Every query is bounded in time; what cannot be read is reported as a problem, never hidden.
 * Reports of finished runs never change, so they are read once and kept.
 */
import { WorkflowNotFoundError, type Client, type WorkflowExecutionInfo } from '@temporalio/client';
import { PENDING_APPROVAL_QUERY, type PendingApproval } from '../domain/approval.js';
import { MONITOR_HEALTH_QUERY, type MonitorHealth } from '../domain/health.js';
import { monitorWorkflowId } from '../domain/ids.js';
import type { Plan } from '../domain/plan.js';
import { listDrills } from '../cli/commands/drill.js';
import { OPERATION_KINDS, type DashboardState, type DrillView, type FinishedView, type HealthView } from './model.js';
import { APPROVAL_KINDS, PROGRESS_QUERY, approvalViews, finishedView, operationView, shellArg } from './operations.js';

export interface CollectorOptions {
  client: Client;
  plan: Plan;
  /** The plan file as the operator gave it (for the commands the page prints). */
  planFile?: string;
  queryTimeoutMs?: number;
  /** Finished operations shown with their per-secret outcomes. */
  finishedLimit?: number;
  drillsLimit?: number;
  /** Past drills are listed again at most this often (each listing reads every drill's result). */
  drillsTtlMs?: number;
  /** Running workflows looked at, at most. */
  runningLimit?: number;
}

const KIND_OF: Record<string, string> = { ...OPERATION_KINDS, resolveConflictWorkflow: 'conflict' };
const FINISHED_TYPES = ['failoverWorkflow', 'failbackWorkflow', 'replicateWorkflow'];

const message = (err: unknown) => (err instanceof Error ? err.message : String(err)).split('\n')[0]!;

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms (is a worker polling its task queue?)`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

export function createCollector(o: CollectorOptions): () => Promise<DashboardState> {
  const { client, plan } = o;
  const timeoutMs = o.queryTimeoutMs ?? 5_000;
  const prefix = `secrets-dr/${plan.name}/`;
  const planArg = o.planFile && o.planFile !== 'secrets-dr.yaml' ? ` -f ${shellArg(o.planFile)}` : '';
  const reports = new Map<string, FinishedView>();
  let drills: { at: number; list: DrillView[] } | undefined;

  const query = <T>(w: { workflowId: string; runId?: string }, name: string) =>
    withTimeout(client.workflow.getHandle(w.workflowId, w.runId).query<T>(name), timeoutMs, `query "${name}" of ${w.workflowId}`);

  /** The monitor's health while it runs (a closed workflow would still answer, with stale health). */
  async function health(): Promise<HealthView> {
    const id = monitorWorkflowId(plan.name);
    const command = `secrets-dr monitor start${planArg}`;
    try {
      const d = await withTimeout(client.workflow.getHandle(id).describe(), timeoutMs, `describe ${id}`);
      if (d.status.name !== 'RUNNING') {
        return {
          available: false,
          reason: `the health monitor of plan ${plan.name} is not running (${d.status.name.toLowerCase()} at ${d.closeTime?.toISOString() ?? '?'})`,
          command,
        };
      }
      return { available: true, monitor: await query<MonitorHealth>({ workflowId: id, runId: d.runId }, MONITOR_HEALTH_QUERY) };
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return { available: false, reason: `no health monitor is running for plan ${plan.name}`, command };
      return { available: false, reason: `the health monitor ${id} did not answer: ${message(err)}`, command };
    }
  }

  async function list(query: string, limit: number): Promise<WorkflowExecutionInfo[]> {
    const out: WorkflowExecutionInfo[] = [];
    for await (const w of client.workflow.list({ query, pageSize: Math.min(limit, 100) })) {
      out.push(w);
      if (out.length >= limit) break;
    }
    return out;
  }

  async function finished(problems: string[]): Promise<FinishedView[]> {
    const types = FINISHED_TYPES.map((t) => `'${t}'`).join(', ');
    const closed = await list(`ExecutionStatus != 'Running' AND WorkflowId STARTS_WITH '${prefix}' AND WorkflowType IN (${types})`, o.finishedLimit ?? 5);
    return Promise.all(
      closed.map(async (w) => {
        const key = `${w.workflowId}/${w.runId}`;
        const known = reports.get(key);
        if (known) return known;
        const base = {
          kind: KIND_OF[w.type] ?? w.type,
          workflowId: w.workflowId,
          runId: w.runId,
          startedAt: w.startTime.toISOString(),
          status: w.status.name,
          closedAt: w.closeTime?.toISOString(),
        };
        let report: unknown;
        if (w.status.name === 'COMPLETED') {
          try {
            report = await withTimeout(client.workflow.getHandle(w.workflowId, w.runId).result(), timeoutMs, `the result of ${w.workflowId}`);
          } catch (err) {
            problems.push(message(err));
            return finishedView(base, undefined);
          }
        }
        const view = finishedView(base, report);
        reports.set(key, view);
        return view;
      }),
    );
  }

  async function pastDrills(): Promise<DrillView[]> {
    if (!drills || Date.now() - drills.at > (o.drillsTtlMs ?? 15_000)) drills = { at: Date.now(), list: await listDrills(client, plan, o.drillsLimit ?? 10) };
    return drills.list;
  }

  return async function collect(): Promise<DashboardState> {
    const problems: string[] = [];
    const settle = async <T>(p: Promise<T>, fallback: T): Promise<T> => p.catch((err) => (problems.push(message(err)), fallback));
    const running = settle(list(`ExecutionStatus = 'Running' AND WorkflowId STARTS_WITH '${prefix}'`, o.runningLimit ?? 200), []);
    const [healthView, runningList, finishedList, drillList] = await Promise.all([health(), running, settle(finished(problems), []), settle(pastDrills(), [])]);

    const now = Date.now();
    const looked = await Promise.all(
      runningList
        .filter((w) => KIND_OF[w.type])
        .map(async (w) => {
          const kind = KIND_OF[w.type]!;
          const progressName = PROGRESS_QUERY[kind as keyof typeof PROGRESS_QUERY];
          const [progress, gate] = await Promise.all([
            progressName ? settle(query<unknown>(w, progressName), undefined) : undefined,
            APPROVAL_KINDS.has(kind) ? settle(query<PendingApproval | null>(w, PENDING_APPROVAL_QUERY), null) : null,
          ]);
          const base = { kind, workflowId: w.workflowId, runId: w.runId, startedAt: w.startTime.toISOString() };
          return { op: kind === 'conflict' ? undefined : operationView(base, progress, now), approvals: approvalViews(kind, w.workflowId, gate, progress) };
        }),
    );
    return {
      generatedAt: new Date(now).toISOString(),
      plan: { name: plan.name, primaryRegion: plan.primaryRegion, drRegions: plan.drRegions.map((d) => d.region), rtoTargetMs: plan.drills.rtoTarget },
      health: healthView,
      operations: looked.flatMap((l) => (l.op ? [l.op] : [])).sort((a, b) => a.startedAt.localeCompare(b.startedAt)),
      approvals: looked.flatMap((l) => l.approvals).sort((a, b) => a.requestedAt.localeCompare(b.requestedAt)),
      finished: finishedList,
      drills: drillList,
      problems,
    };
  };
}

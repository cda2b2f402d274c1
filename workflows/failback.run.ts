/**
 * What one failback run knows (never a value): the input, the failovers it reconciles, the items
 * (one per secret, merged back from the chunk children), the per-secret asks and their answers,
 * warnings and the figures of its report. The steps (failback*.steps.ts) read and fill it.
 */
import { expectedPromotionMs, PROGRESS_SETTLED_LIMIT, settledOf } from '../domain/failover.js';
import {
  FULL_ITEMS_LIMIT,
  FailbackInput,
  countItems,
  expectedWrites,
  itemNeedsAttention,
  reversePlanChange,
  type FailbackItem,
  type FailbackProgress,
  type FailbackReport,
  type FailoverRun,
  type PendingAsk,
  type SecretFacts,
} from '../domain/failback.js';
import type { ApprovalDecision } from '../domain/approval.js';
import type { FailbackActivities } from '../activities/failback.activities.js';
import type { FailoverActivities } from '../activities/failover.activities.js';
import type { EventActivities } from '../activities/events.activities.js';
import { regionActivities } from './activity-options.js';
import { SIDE_OPTIONS } from './failover-options.js';
import { FAILBACK_OPTIONS } from './failback-options.js';
import type { FailbackContext, FailbackMachineInput, FailbackMachineOutput } from './machines/failback.machine.js';
import { PlanRun } from './plan-run.js';

export type ItemStatus = FailbackItem['status'];

export class FailbackRun extends PlanRun<ReturnType<typeof FailbackInput.parse>> {
  readonly reverse: boolean;

  /** The DR Region most failed-over secrets live in (each item names its own: `dr`). */
  to: string;
  failoverId: string | undefined;
  /** Every failover since the last failback (per secret), and per DR Region the records that tell it. */
  failovers: FailoverRun[] = [];
  readonly records = new Map<string, string[]>();
  items: FailbackItem[] = [];
  /** Per-secret asks (policy `ask`): facts to resolve with, the questions, the answers. */
  readonly askFacts = new Map<string, SecretFacts>();
  readonly asks = new Map<string, PendingAsk>();
  readonly answers = new Map<string, ApprovalDecision>();
  rotation: FailbackReport['rotation'];
  unfenced: number | undefined;

  constructor(raw: FailbackInput) {
    super(FailbackInput.parse(raw));
    this.reverse = this.input.reverse;
    this.to = this.plan.drRegions[0]!.region;
  }

  machineInput(): FailbackMachineInput {
    return { reverse: this.reverse, dryRun: this.input.dryRun, requireApproval: this.plan.failover.requireApproval && !this.input.skipApproval };
  }

  side(region: string) {
    return regionActivities<FailbackActivities & FailoverActivities & EventActivities>(region, this.input.taskQueuePrefix, SIDE_OPTIONS);
  }
  writes(region: string) {
    return regionActivities<FailbackActivities>(region, this.input.taskQueuePrefix, FAILBACK_OPTIONS);
  }

  /**
   * Items come back from children: each updates the item of its name field by field (children leave
   * out what the parent already holds: history carries each secret's fields once), new ones are added.
   */
  merge(updated: readonly FailbackItem[]): void {
    if (this.items.length === 0) {
      this.items.push(...updated);
      return;
    }
    const index = new Map(updated.map((i) => [i.name, i]));
    const known = new Set(this.items.map((i) => i.name));
    this.items = this.items.map((i) => {
      const u = index.get(i.name);
      return u ? { ...i, ...u } : i;
    });
    for (const u of updated) if (!known.has(u.name)) this.items.push(u);
  }
  item(name: string): FailbackItem {
    return this.items.find((i) => i.name === name)!;
  }
  withStatus(...s: ItemStatus[]): FailbackItem[] {
    return this.items.filter((i) => s.includes(i.status));
  }
  count(...s: ItemStatus[]): number {
    return this.withStatus(...s).length;
  }
  openAsks(): string[] {
    return [...this.asks.keys()].filter((s) => !this.answers.has(s));
  }

  progress(c: FailbackContext, step: string): FailbackProgress {
    return {
      workflowId: this.workflowId,
      plan: this.plan.name,
      from: this.from,
      to: this.to,
      reverse: this.reverse,
      step,
      paused: c.paused,
      cancelRequested: c.cancelRequested,
      total: this.items.length,
      counts: countItems(this.items),
      pendingAsks: [...this.asks.values()].filter((a) => !this.answers.has(a.subject)),
      startedAt: this.started.toISOString(),
      settled: this.items
        .filter((i) => i.status !== 'planned')
        .slice(-PROGRESS_SETTLED_LIMIT)
        .map(settledOf),
    };
  }

  /** The report: the outcome is the machine's (never decided again here). */
  report({ outcome, detail }: FailbackMachineOutput, c: FailbackContext): FailbackReport {
    const { items, from, to, reverse, plan } = this;
    const writes = expectedWrites(items);
    return {
      workflowId: this.workflowId,
      plan: plan.name,
      ...(this.failoverId ? { failoverId: this.failoverId } : {}),
      ...(this.failovers.length ? { failovers: this.failovers } : {}),
      from,
      to,
      reverse,
      outcome,
      ...(detail ? { detail } : {}),
      ...(c.cancelRequested ? { cancelled: true } : {}),
      total: items.length,
      counts: countItems(items),
      items: items.slice(0, FULL_ITEMS_LIMIT),
      attention:
        outcome === 'dry-run'
          ? items.filter((i) => i.status === 'skipped' || i.resolution === 'ask')
          : items.filter(itemNeedsAttention).slice(0, FULL_ITEMS_LIMIT),
      problems: c.problems.length ? c.problems : this.problems,
      warnings: this.warnings,
      ...(this.rotation ? { rotation: this.rotation } : {}),
      ...(this.unfenced !== undefined ? { unfenced: this.unfenced } : {}),
      ...(reverse ? { planChange: reversePlanChange(plan, to) } : {}),
      writes: { expected: writes, expectedMs: expectedPromotionMs(writes, this.share) },
      durationMs: Date.now() - this.started.getTime(),
      startedAt: this.started.toISOString(),
      finishedAt: new Date().toISOString(),
    };
  }
}

/**
 * What a plan-wide run (failover, failback) knows from its first line: the parsed input, the plan,
 * its primary Region and write share, the workflow's id, start and stamp, the fleet-wide approval
 * gate, the problems and warnings of its report; and how it publishes an event (a hint, never a
 * reason to fail). FailoverRun and FailbackRun add what is theirs.
 */
import { patched, workflowInfo } from '@temporalio/workflow';
import type { OutgoingEvent } from '../domain/events.js';
import { RUN_STAMP_MS_PATCH, runStamp } from '../domain/ids.js';
import { writeShareOf, type Plan, type WriteShare } from '../domain/plan.js';
import type { EventActivities } from '../activities/events.activities.js';
import { regionActivities } from './activity-options.js';
import { SIDE_OPTIONS } from './failover-options.js';
import { ApprovalGate } from './kit/approval-gate.js';
import { failureMessage } from './kit/failures.js';

export abstract class PlanRun<I extends { plan: Plan; taskQueuePrefix?: string | undefined }> {
  readonly plan: Plan;
  readonly from: string;
  readonly share: number;
  /** The plan's share and mode, as every writing activity of the run takes them. */
  readonly writeShare: WriteShare;
  readonly workflowId = workflowInfo().workflowId;
  readonly started = new Date();
  /** Replay: runs recorded before the patch keep whole-second stamps. */
  readonly stamp = runStamp(this.started, patched(RUN_STAMP_MS_PATCH));
  /** The fleet-wide gate (plan.failover.requireApproval). */
  readonly gate = new ApprovalGate();
  readonly problems: string[] = [];
  readonly warnings: string[] = [];

  constructor(readonly input: I) {
    this.plan = input.plan;
    this.from = this.plan.primaryRegion;
    this.share = this.plan.failover.writeQuotaShare;
    this.writeShare = writeShareOf(this.plan.failover);
  }

  /**
   * The fleet-wide approval gate (plan.failover.approvalTimeout), announced in `region` (Approval Requested);
   * `stillWanted` turns false when the machine left the gate (cancelled).
   */
  requestApproval(step: string, subject: string, region: string, stillWanted: () => boolean) {
    const timeoutMs = this.plan.failover.approvalTimeout;
    return this.gate.wait({ step, subject, timeoutMs }, stillWanted, () =>
      this.publish(region, { detailType: 'Approval Requested', detail: { plan: this.plan.name, workflowId: this.workflowId, step, timeoutMs, subject } }),
    );
  }

  /** Events are hints: one that cannot be published in `region` is a warning, never a failed run. */
  async publish(region: string, event: OutgoingEvent): Promise<void> {
    try {
      await regionActivities<EventActivities>(region, this.input.taskQueuePrefix, SIDE_OPTIONS).publishEvent({ bus: this.plan.events.bus, event });
    } catch (err) {
      this.warnings.push(`event "${event.detailType}" not published in ${region}: ${failureMessage(err)}`);
    }
  }
}

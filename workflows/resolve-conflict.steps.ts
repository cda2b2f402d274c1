/**
 * resolveConflict's effects, one method per machine action (machines/resolve-conflict.machine.ts):
 * lineage of both sides (HMACs, never values), the Conflict Detected event, the approval gate,
 * the backup, adopt and the force-overwrite. Each answers with its event; a failed step becomes
 * STEP_FAILED with the reason, and the machine decides what that means.
 */
import { getExternalWorkflowHandle, setHandler, workflowInfo } from '@temporalio/workflow';
import { ApprovalDecision } from '../domain/approval.js';
import { sameCurrentValue } from '../domain/lineage.js';
import { backupName } from '../domain/replication.js';
import { arnSuffix } from '../domain/status.js';
import type { LineageActivities } from '../activities/lineage.activities.js';
import type { EventActivities } from '../activities/events.activities.js';
import type { ReplicationActivities } from '../activities/replication.activities.js';
import type { BackupActivities } from '../activities/backup.activities.js';
import { regionActivities } from './activity-options.js';
import { ApprovalGate, approvalUpdate, pendingApprovalQuery } from './kit/index.js';
import type { ResolveContext, ResolveEvent } from './machines/resolve-conflict.machine.js';
import { approvalStateSignal } from './setup.messages.js';
import { failureReason, WRITE_OPTIONS } from './setup-support.js';
import type { ResolveConflictInput } from '../domain/workflow-inputs.js';

type Acts = LineageActivities & EventActivities & ReplicationActivities & BackupActivities;
const stepFailed = (err: unknown): ResolveEvent => ({ type: 'STEP_FAILED', ...failureReason(err) });

export class ConflictRun {
  readonly workflowId = workflowInfo().workflowId;
  readonly gate = new ApprovalGate();
  readonly #primary: Acts;
  readonly #target: Acts;

  constructor(readonly input: ResolveConflictInput) {
    this.#primary = regionActivities<Acts>(input.primaryRegion, input.taskQueuePrefix, WRITE_OPTIONS);
    this.#target = regionActivities<Acts>(input.region, input.taskQueuePrefix, WRITE_OPTIONS);
  }

  /** The gate's handlers; an answer about another secret is refused (validators run synchronously: nothing reaches history). */
  installGate(): void {
    setHandler(pendingApprovalQuery, () => this.gate.pending);
    setHandler(approvalUpdate, (d) => this.gate.accept(d), {
      validator: (d) => {
        ApprovalDecision.parse(d);
        this.gate.validate(d, this.workflowId);
        if (d.subject !== undefined && d.subject !== this.input.secret) throw new Error(`this gate is about ${this.input.secret}, not ${d.subject}`);
      },
    });
  }

  async #publish(event: Parameters<EventActivities['publishEvent']>[0]['event']): Promise<void> {
    await this.#primary.publishEvent({ bus: this.input.bus, event }).catch(() => undefined); // events are hints; never fail the step
  }

  async #tellSetup(pending: boolean): Promise<void> {
    const { setupWorkflowId, secret, region } = this.input;
    if (setupWorkflowId)
      await getExternalWorkflowHandle(setupWorkflowId)
        .signal(approvalStateSignal, { workflowId: this.workflowId, secret, region, pending })
        .catch(() => undefined);
  }

  async compare(): Promise<ResolveEvent> {
    const { planName, secret, primaryRegion } = this.input;
    try {
      const [p, t] = await Promise.all([this.#primary.readLineage({ planName, secretId: secret }), this.#target.readLineage({ planName, secretId: secret })]);
      const ours = t !== undefined && p !== undefined && t.primaryRegion === primaryRegion && arnSuffix(t.arn) === arnSuffix(p.arn);
      return { type: 'COMPARED', identical: sameCurrentValue(p, t), ...(t ? { targetArn: t.arn } : {}), targetExists: t !== undefined && !ours };
    } catch (err) {
      return stepFailed(err);
    }
  }

  async announceConflict(c: ResolveContext): Promise<undefined> {
    const { planName, secret, region, policy } = this.input;
    await this.#publish({
      detailType: 'Conflict Detected',
      detail: { plan: planName, workflowId: this.workflowId, secret, region, policy, ...(c.identical !== undefined ? { identical: c.identical } : {}) },
    });
    return undefined;
  }

  async requestApproval(): Promise<ResolveEvent> {
    const { planName, secret, approvalTimeoutMs: timeoutMs } = this.input;
    const step = 'overwrite-conflicting-secret';
    const answer = await this.gate.wait({ step, subject: secret, timeoutMs }, undefined, async () => {
      await this.#publish({ detailType: 'Approval Requested', detail: { plan: planName, workflowId: this.workflowId, step, timeoutMs, subject: secret } });
      await this.#tellSetup(true);
    });
    await this.#tellSetup(false);
    return answer ?? { type: 'APPROVAL_TIMEOUT' };
  }

  /** Backs the secret up in the Region of `side` (the backup activity: AWSCURRENT and AWSPREVIOUS, named by the plan). */
  #backupIn(side: Acts, reason: string, onlyIfPreviousWouldMove = false) {
    const { planName, secret, writeQuotaShare, writeQuotaShareMode } = this.input;
    const backup = backupName(planName, secret, new Date());
    return side.backupSecret({
      planName,
      secret,
      backup,
      reason,
      workflowId: this.workflowId,
      writeQuotaShare,
      ...(writeQuotaShareMode ? { writeQuotaShareMode } : {}),
      ...(onlyIfPreviousWouldMove ? { onlyIfPreviousWouldMove } : {}),
    });
  }

  async backup(): Promise<ResolveEvent> {
    try {
      const b = await this.#backupIn(this.#target, `setup: same-named secret overwritten by replication (policy ${this.input.policy})`);
      return { type: 'BACKED_UP', backup: b.backup };
    } catch (err) {
      return stepFailed(err);
    }
  }

  async adopt(): Promise<ResolveEvent> {
    const { secret, region, writeQuotaShare, writeQuotaShareMode } = this.input;
    try {
      // Writing the target's value into the primary takes AWSPREVIOUS from its current holder: saved first.
      await this.#backupIn(this.#primary, `setup: adopt writes the ${region} value into the primary; its AWSPREVIOUS moves`, true);
      // The token is per run: the conflict workflow id repeats for every setup of the plan.
      await this.#primary.adoptTargetValue({
        secret,
        targetRegion: region,
        workflowId: `${this.workflowId}/${workflowInfo().runId}`,
        writeQuotaShare,
        ...(writeQuotaShareMode ? { writeQuotaShareMode } : {}),
      });
      return { type: 'ADOPTED' };
    } catch (err) {
      return stepFailed(err);
    }
  }

  /** ForceOverwriteReplicaSecret only when the machine allows it: a backup exists, the values are equal, or the target is gone. */
  async forceReplicate(c: ResolveContext): Promise<ResolveEvent> {
    const { secret, region, kmsKeyId, writeQuotaShare, writeQuotaShareMode } = this.input;
    try {
      const r = await this.#primary.forceReplicate({
        secret,
        region,
        ...(kmsKeyId ? { kmsKeyId } : {}),
        force: !c.targetGone,
        ...(c.backup ? { backup: c.backup } : {}),
        identical: c.identical === true,
        writeQuotaShare,
        ...(writeQuotaShareMode ? { writeQuotaShareMode } : {}),
      });
      return { type: 'OVERWRITTEN', replicaArn: r.replicaArn };
    } catch (err) {
      return stepFailed(err);
    }
  }
}

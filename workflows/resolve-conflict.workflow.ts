/**
 * resolveConflict (child of a setup batch): one same-named secret in one DR Region. The machine
 * (resolve-conflict.machine.ts) decides; this file runs its actions: lineage of both sides (HMACs,
 * never values), events, the approval gate (update + condition with timeout), backup, adopt and the
 * force-overwrite, in the order the machine allows.
 */
import { condition, getExternalWorkflowHandle, setHandler, workflowInfo } from '@temporalio/workflow';
import { initialTransition, transition } from 'xstate';
import { ApprovalDecision, type PendingApproval } from '../domain/approval.js';
import { sameCurrentValue } from '../domain/lineage.js';
import type { ConflictPolicy } from '../domain/plan.js';
import { backupName, type ConflictResolution } from '../domain/replication.js';
import { arnSuffix } from '../domain/status.js';
import type { LineageActivities } from '../activities/lineage.activities.js';
import type { EventActivities } from '../activities/events.activities.js';
import type { ReplicationActivities } from '../activities/replication.activities.js';
import type { BackupActivities } from '../activities/backup.activities.js';
import { regionActivities } from './activity-options.js';
import { resolveConflictMachine, resolutionOf, type ResolveEvent } from './machines/resolve-conflict.machine.js';
import { approvalStateSignal, approvalUpdate, pendingApprovalQuery } from './setup.messages.js';
import { failureReason, WRITE_OPTIONS } from './setup-support.js';

export interface ResolveConflictInput {
  planName: string;
  bus: string;
  primaryRegion: string;
  region: string;
  secret: string;
  policy: ConflictPolicy;
  approvalTimeoutMs: number;
  kmsKeyId?: string;
  writeQuotaShare: number;
  taskQueuePrefix?: string;
  /** The setup workflow to tell when this conflict waits for a person. */
  setupWorkflowId?: string;
}

type Acts = LineageActivities & EventActivities & ReplicationActivities & BackupActivities;

export async function resolveConflictWorkflow(input: ResolveConflictInput): Promise<ConflictResolution> {
  const { workflowId } = workflowInfo();
  const primary = regionActivities<Acts>(input.primaryRegion, input.taskQueuePrefix, WRITE_OPTIONS);
  const target = regionActivities<Acts>(input.region, input.taskQueuePrefix, WRITE_OPTIONS);
  let pending: PendingApproval | null = null;
  let decision: ApprovalDecision | undefined;
  setHandler(pendingApprovalQuery, () => pending);
  setHandler(
    approvalUpdate,
    (d) => {
      decision = d;
      return { accepted: true, decision: d.decision };
    },
    {
      // Validators run synchronously: a refused answer never reaches history.
      validator: (d) => {
        ApprovalDecision.parse(d);
        if (!pending || decision) throw new Error(`${workflowId} is not waiting for approval`);
        if (d.subject !== undefined && d.subject !== input.secret) throw new Error(`this gate is about ${input.secret}, not ${d.subject}`);
      },
    },
  );
  const publish = (event: Parameters<EventActivities['publishEvent']>[0]['event']) =>
    primary.publishEvent({ bus: input.bus, event }).catch(() => undefined); // events are hints; never fail the step
  const tellSetup = (isPending: boolean) =>
    input.setupWorkflowId
      ? getExternalWorkflowHandle(input.setupWorkflowId).signal(approvalStateSignal, { workflowId, secret: input.secret, region: input.region, pending: isPending }).catch(() => undefined)
      : Promise.resolve();

  const run = async (type: string, params: Record<string, unknown>, ctx: { identical?: boolean; backup?: string }): Promise<ResolveEvent | undefined> => {
    const stepFailed = (err: unknown): ResolveEvent => ({ type: 'STEP_FAILED', ...failureReason(err) });
    switch (type) {
      case 'compare': {
        let p, t;
        try {
          [p, t] = await Promise.all([
            primary.readLineage({ planName: input.planName, secretId: input.secret }),
            target.readLineage({ planName: input.planName, secretId: input.secret }),
          ]);
        } catch (err) {
          return stepFailed(err);
        }
        const ours = t !== undefined && p !== undefined && t.primaryRegion === input.primaryRegion && arnSuffix(t.arn) === arnSuffix(p.arn);
        return { type: 'COMPARED', identical: sameCurrentValue(p, t), ...(t ? { targetArn: t.arn } : {}), targetExists: t !== undefined && !ours };
      }
      case 'announceConflict':
        await publish({ detailType: 'Conflict Detected', detail: { plan: input.planName, workflowId, secret: input.secret, region: input.region, policy: input.policy, ...(ctx.identical !== undefined ? { identical: ctx.identical } : {}) } });
        return undefined;
      case 'requestApproval': {
        const timeoutMs = Number(params.timeoutMs);
        pending = { step: 'overwrite-conflicting-secret', subject: input.secret, requestedAt: new Date().toISOString(), timeoutMs };
        await publish({ detailType: 'Approval Requested', detail: { plan: input.planName, workflowId, step: pending.step, timeoutMs, subject: input.secret } });
        await tellSetup(true);
        const answered = await condition(() => decision !== undefined, timeoutMs);
        pending = null;
        await tellSetup(false);
        if (!answered || !decision) return { type: 'APPROVAL_TIMEOUT' };
        return decision.decision === 'approve' ? { type: 'APPROVED', by: decision.by } : { type: 'REJECTED', reason: decision.reason, by: decision.by };
      }
      case 'backup':
        try {
          const b = await target.backupSecret({
            planName: input.planName,
            secret: input.secret,
            backup: backupName(input.planName, input.secret, new Date()),
            reason: `setup: same-named secret overwritten by replication (policy ${input.policy})`,
            workflowId,
            writeQuotaShare: input.writeQuotaShare,
          });
          return { type: 'BACKED_UP', backup: b.backup };
        } catch (err) {
          return stepFailed(err);
        }
      case 'adopt':
        try {
          // Writing the target's value into the primary takes AWSPREVIOUS from its current holder: saved first.
          await primary.backupSecret({
            planName: input.planName,
            secret: input.secret,
            backup: backupName(input.planName, input.secret, new Date()),
            reason: `setup: adopt writes the ${input.region} value into the primary; its AWSPREVIOUS moves`,
            workflowId,
            writeQuotaShare: input.writeQuotaShare,
            onlyIfPreviousWouldMove: true,
          });
          // The token is per run: the conflict workflow id repeats for every setup of the plan.
          await primary.adoptTargetValue({ secret: input.secret, targetRegion: input.region, workflowId: `${workflowId}/${workflowInfo().runId}`, writeQuotaShare: input.writeQuotaShare });
          return { type: 'ADOPTED' };
        } catch (err) {
          return stepFailed(err);
        }
      case 'forceReplicate':
        try {
          const r = await primary.forceReplicate({
            secret: input.secret,
            region: input.region,
            ...(input.kmsKeyId ? { kmsKeyId: input.kmsKeyId } : {}),
            force: Boolean(params.force),
            ...(ctx.backup ? { backup: ctx.backup } : {}),
            identical: Boolean(params.identical),
            writeQuotaShare: input.writeQuotaShare,
          });
          return { type: 'OVERWRITTEN', replicaArn: r.replicaArn };
        } catch (err) {
          return stepFailed(err);
        }
      default:
        throw new Error(`resolveConflict: unknown action ${type}`);
    }
  };

  let [snapshot, actions] = initialTransition(resolveConflictMachine, {
    secret: input.secret,
    region: input.region,
    policy: input.policy,
    approvalTimeoutMs: input.approvalTimeoutMs,
  });
  for (;;) {
    let next: ResolveEvent | undefined;
    for (const a of actions) next = (await run(a.type, (a.params ?? {}) as Record<string, unknown>, snapshot.context)) ?? next;
    if (snapshot.status === 'done') break;
    if (!next) throw new Error(`resolveConflict: no event after ${JSON.stringify(snapshot.value)}`);
    [snapshot, actions] = transition(resolveConflictMachine, snapshot, next);
  }
  return resolutionOf(snapshot.context, String(snapshot.value));
}

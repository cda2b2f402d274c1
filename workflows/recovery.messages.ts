/** Signals, queries and updates of the monitor and recover workflows (names from domain/, so the CLI needs no workflow code). */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import { APPROVAL_UPDATE, PENDING_APPROVAL_QUERY, type ApprovalDecision, type PendingApproval } from '../domain/approval.js';
import { MONITOR_HEALTH_QUERY, MONITOR_STOP_SIGNAL, type MonitorHealth } from '../domain/health.js';
import type { RecoveryHint } from '../domain/inbound-events.js';
import { RECOVER_HINT_SIGNAL, RECOVER_STATUS_QUERY, VETO_UPDATE, type RecoverStatus, type VetoRequest } from '../domain/recover.js';

export const monitorHealthQuery = defineQuery<MonitorHealth>(MONITOR_HEALTH_QUERY);
export const monitorStopSignal = defineSignal<[{ by?: string; reason?: string }?]>(MONITOR_STOP_SIGNAL);

export const recoverHintSignal = defineSignal<[RecoveryHint]>(RECOVER_HINT_SIGNAL);
export const recoverStatusQuery = defineQuery<RecoverStatus>(RECOVER_STATUS_QUERY);
export const recoverVetoUpdate = defineUpdate<{ vetoed: true }, [VetoRequest]>(VETO_UPDATE);
export const recoverApprovalUpdate = defineUpdate<{ accepted: true; decision: ApprovalDecision['decision'] }, [ApprovalDecision]>(APPROVAL_UPDATE);
export const recoverPendingApprovalQuery = defineQuery<PendingApproval | null>(PENDING_APPROVAL_QUERY);

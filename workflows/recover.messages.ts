/** Recover's messages: hints in (signal-with-start), its status, the veto during the veto window. Names from domain/. */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { RecoveryHint } from '../domain/inbound-events.js';
import { RECOVER_HINT_SIGNAL, RECOVER_STATUS_QUERY, VETO_UPDATE, type RecoverStatus, type VetoRequest } from '../domain/recover.js';

export const recoverHintSignal = defineSignal<[RecoveryHint]>(RECOVER_HINT_SIGNAL);
export const recoverStatusQuery = defineQuery<RecoverStatus>(RECOVER_STATUS_QUERY);
export const recoverVetoUpdate = defineUpdate<{ vetoed: true }, [VetoRequest]>(VETO_UPDATE);

/** Messages of setup's workflows: the progress query, child → parent signals. Approval: the kit's one gate messages. */
import { defineSignal } from '@temporalio/workflow';
import type { SetupProgress } from '../domain/replication.js';
import { progressQuery } from './kit/control.messages.js';

export const setupProgressQuery = progressQuery<SetupProgress>();

/** A batch reports how far it got (replicate-batch → replicate). */
export const batchProgressSignal = defineSignal<[{ batch: number; done: number; counts: Record<string, number> }]>('batchProgress');

/** A conflict starts or stops waiting for a person (resolve-conflict → replicate), so `setup` can say whom to ask. */
export const approvalStateSignal = defineSignal<[{ workflowId: string; secret: string; region: string; pending: boolean }]>('approvalState');

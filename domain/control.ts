/**
 * Names of the control messages every steerable operation answers (failover, failback, setup):
 * pause/resume/cancel between batches and the progress query. The definitions live in
 * workflows/kit/control.messages.ts; the names are here so both sides spell them once.
 */
import { z } from 'zod';

export const PAUSE_SIGNAL = 'pause';
export const RESUME_SIGNAL = 'resume';
export const CANCEL_SIGNAL = 'cancel';
export const PROGRESS_QUERY = 'progress';

/** Who asked, and why (recorded in history; never a secret). */
export const ControlRequest = z.object({ by: z.string().max(200).optional(), reason: z.string().max(1_000).optional() });
export type ControlRequest = z.infer<typeof ControlRequest>;

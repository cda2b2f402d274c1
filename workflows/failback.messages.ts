/** Failback's own messages (pause/resume/cancel and approval: kit/control.messages.ts). */
import type { FailbackProgress } from '../domain/failback.js';
import { progressQuery } from './kit/control.messages.js';

export const failbackProgressQuery = progressQuery<FailbackProgress>();

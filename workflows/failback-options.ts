/** Activity options of the failback workflows. */
import { activityOptions } from './activity-options.js';

/**
 * Batch activities (reads and quota-governed writes): they heartbeat per secret, so a killed worker
 * is noticed within the heartbeat timeout and the retry — describe-first, tokens from the workflow
 * id — skips what the killed attempt already did.
 */
export const FAILBACK_OPTIONS = activityOptions(
  { startToCloseTimeout: '15m', heartbeatTimeout: '15s' },
  { initialInterval: '1s', maximumInterval: '30s', maximumAttempts: 20 },
);

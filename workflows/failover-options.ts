/** Activity options of the failover workflows: why each timeout/retry is what it is. */
import { activityOptions } from './activity-options.js';

/**
 * Promotion batches: a crashed worker is noticed within the heartbeat timeout, and the retry resumes
 * from the heartbeat details. The activity heartbeats after every AWS call, so the timeout only has
 * to outlast one call (SECRETS_DR_AWS_TIMEOUT_MS, 15 s by default) plus a backoff: an attempt that
 * times out keeps running beside its retry, so it must not time out merely because AWS is slow.
 */
export const PROMOTE_OPTIONS = activityOptions(
  { startToCloseTimeout: '15m', heartbeatTimeout: '30s' },
  { initialInterval: '1s', maximumInterval: '30s', maximumAttempts: 30 },
);

/** Listing a Region: a Region that does not answer is reported quickly (the primary may be down). */
export const INSPECT_OPTIONS = activityOptions(
  { startToCloseTimeout: '2m', heartbeatTimeout: '30s' },
  { initialInterval: '500ms', maximumInterval: '5s', maximumAttempts: 2 },
);

/**
 * Fencing the old primary is best effort in the failover itself; what is not done goes pending. Five attempts
 * (1 + 2 + 4 + 8 s apart) outlast a write-lease handover (term 10 s + 1.1 s quiet): WriteLeaseLost is not
 * evidence that the old primary is down.
 */
export const FENCE_OPTIONS = activityOptions(
  { startToCloseTimeout: '15m', heartbeatTimeout: '30s' },
  { initialInterval: '1s', maximumInterval: '10s', maximumAttempts: 5 },
);

/** Small side steps (events, rotation, key): a few attempts, then reported. */
export const SIDE_OPTIONS = activityOptions(
  { startToCloseTimeout: '5m', heartbeatTimeout: '60s' },
  { initialInterval: '1s', maximumInterval: '10s', maximumAttempts: 3 },
);

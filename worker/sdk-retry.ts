/**
 * The AWS SDK clients' retry strategy: one layer per kind of failure.
 * - No answer (network error, timeout, 5xx: the SDK's TRANSIENT and SERVER_ERROR): retried here, up to
 *   SDK_MAX_ATTEMPTS sends with jittered exponential backoff, like the SDK's standard mode. A blip heals
 *   in a second inside one call; a Region that keeps failing surfaces as RegionUnreachable and
 *   Temporal's activity retry takes over (batch activities resume from their heartbeat).
 * - Throttling: never retried here. Writes go through the write governor (activities/write-governor.ts),
 *   the one throttling layer with adaptive backoff; a throttled ListSecrets page is asked again by the
 *   pager (activities/list-secrets.ts, a bounded number of times); any other throttled read fails its
 *   activity, whose Temporal retry policy backs off.
 * - Any other answer (validation, access denied, not found): never retried.
 */
import type { SecretsManagerClientConfig } from '@aws-sdk/client-secrets-manager';

type RetryStrategyV2 = Extract<NonNullable<SecretsManagerClientConfig['retryStrategy']>, { acquireInitialRetryToken: unknown }>;
type RetryToken = Awaited<ReturnType<RetryStrategyV2['acquireInitialRetryToken']>>;
type RetryErrorInfo = Parameters<RetryStrategyV2['refreshRetryTokenForRetry']>[1];

export const SDK_MAX_ATTEMPTS = 3;
// The SDK's standard mode (@smithy/core util-retry, 2026 settings): full-jitter backoff from 50 ms, and a
// retry quota (capacity 500, 14 per retry, refunded on success) that stops retrying when a Region is down.
const BASE_DELAY_MS = 50;
const MAX_DELAY_MS = 20_000;
const CAPACITY = 500;
const RETRY_COST = 14;

/** The error kinds this layer retries (the SDK's classification: network errors, timeouts, 500/502/503/504). */
const SDK_RETRIED_ERROR_TYPES: ReadonlySet<RetryErrorInfo['errorType']> = new Set(['TRANSIENT']);

type Token = RetryToken & { cost: number };
const token = (retries: number, delayMs: number, cost: number): Token => ({ getRetryCount: () => retries, getRetryDelay: () => delayMs, cost });

/** The SDK's standard retry strategy without throttling (see the module comment); one per client. */
export function noAnswerRetryStrategy(maxAttempts = SDK_MAX_ATTEMPTS, random: () => number = Math.random): RetryStrategyV2 {
  let capacity = CAPACITY;
  return {
    async acquireInitialRetryToken() {
      return token(0, 0, 0);
    },
    async refreshRetryTokenForRetry(previous, info) {
      const retries = previous.getRetryCount() + 1;
      // Throwing tells the SDK to give up and surface the call's own error.
      if (!SDK_RETRIED_ERROR_TYPES.has(info.errorType) || retries >= maxAttempts || capacity < RETRY_COST) throw new Error('no retry');
      capacity -= RETRY_COST;
      return token(retries, Math.floor(random() * Math.min(BASE_DELAY_MS * 2 ** (retries - 1), MAX_DELAY_MS)), RETRY_COST);
    },
    recordSuccess(t) {
      capacity = Math.min(CAPACITY, capacity + ((t as Token).cost || 1));
    },
  };
}

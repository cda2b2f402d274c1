/**
 * Turns AWS SDK errors into Temporal failures with the project's error type names (domain/errors.ts),
 * so retry policies can tell "try again" (unreachable Region, throttling) from "stop" (rejected).
 * The original error's name and message are kept; no request payload (which may hold a value) is.
 */
import { ApplicationFailure } from '@temporalio/common';
import { ErrorType } from '../domain/errors.js';
import { classifyAwsErrorName, classifyFailure, type AwsErrorClass } from '../domain/aws-error-class.js';

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ENOTFOUND', 'UND_ERR_SOCKET']);
const RETRYABLE_AWS = new Set([
  'ThrottlingException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'InternalServiceError',
  'InternalFailure',
  'ServiceUnavailableException',
  'ServiceUnavailable',
  'TimeoutError',
  'RequestTimeout',
]);

interface AwsErrorInfo {
  name: string;
  message: string;
  status?: number;
  code?: string;
}

/** An SDK error's name, message, status and network code; for our own failures (`toFailure`, the governor's), the AWS error's name they keep. */
export function describeAwsError(err: unknown): AwsErrorInfo {
  if (err instanceof ApplicationFailure) {
    const awsError = (err.details?.[0] as { awsError?: unknown } | undefined)?.awsError;
    return { name: typeof awsError === 'string' ? awsError : (err.type ?? 'ApplicationFailure'), message: err.message };
  }
  const e = err as { name?: string; message?: string; code?: string; $metadata?: { httpStatusCode?: number }; cause?: { code?: string } };
  return {
    name: e?.name ?? 'Error',
    message: e?.message ?? String(err),
    status: e?.$metadata?.httpStatusCode,
    code: e?.code ?? e?.cause?.code,
  };
}

/**
 * True when the Region did not answer (network error, timeout, 5xx): an outage, not a refusal. A call cut short by
 * the activity's end (the SDK's AbortError, our CancelledFailure: activities/cancellation.ts) got no answer either.
 */
export function isUnreachable(err: unknown): boolean {
  const info = describeAwsError(err);
  if (info.code && NETWORK_CODES.has(info.code)) return true;
  if (['TimeoutError', 'AbortError', 'CancelledFailure', 'RequestTimeout'].includes(info.name)) return true;
  if (info.status !== undefined && info.status >= 500) return true;
  return /socket hang up|ECONNRESET|ECONNREFUSED|connect ETIMEDOUT/i.test(info.message);
}

/** Throttled: the AWS error names and messages of rate limiting, and our own WriteLeaseLost (domain/aws-error-class.ts). */
export function isThrottling(err: unknown): boolean {
  const info = describeAwsError(err);
  return classifyAwsErrorName(info.name, undefined, info.message) === 'throttled';
}

const INTERNAL_ERRORS = new Set(['InternalServiceError', 'InternalFailure', 'ServiceUnavailableException']);

/** Retryable answers that are not throttling (the governor absorbs that): no answer, 5xx, internal errors. */
export function isTransient(err: unknown): boolean {
  return isUnreachable(err) || INTERNAL_ERRORS.has(describeAwsError(err).name);
}

/**
 * A batch activity's failure, not one secret's: the Region is down (also as our RegionUnreachable failure), throttled
 * through the governor's retries (or its write lease is lost), answers 5xx, or the activity was cancelled (its calls
 * abort: an AbortError, or our CancelledFailure from activities/cancellation.ts). The batch throws it and Temporal
 * retries the batch; any other error is that secret's outcome.
 */
export function isBatchFailure(err: unknown): boolean {
  return (err instanceof ApplicationFailure && err.type === ErrorType.RegionUnreachable) || isTransient(err) || isThrottling(err);
}

/** An error as one secret's reason in a report: the AWS error's name and message, bounded. */
export function errorReason(err: unknown): string {
  const i = describeAwsError(err);
  return `${i.name}: ${i.message}`.slice(0, 300);
}

/**
 * The one classifier of the monitor's and recover's probes (DESIGN invariant 9): unreachable
 * (no answer: network error, timeout, 5xx) vs denied vs throttled vs rejected (another answer).
 * Also reads our own failures (`toFailure`), which keep the AWS error's name in their details.
 */
export function classifyAwsError(err: unknown): AwsErrorClass {
  if (err instanceof ApplicationFailure) {
    const awsError = (err.details?.[0] as { awsError?: unknown } | undefined)?.awsError;
    if (err.type === ErrorType.RegionUnreachable || typeof awsError === 'string')
      return classifyFailure(err.type ?? undefined, awsError as string | undefined, err.message);
  }
  const info = describeAwsError(err);
  return classifyAwsErrorName(info.name, info.status, info.message) ?? (isUnreachable(err) ? 'unreachable' : 'rejected');
}

export function isNotFound(err: unknown): boolean {
  return describeAwsError(err).name === 'ResourceNotFoundException';
}

/** Wraps an SDK error as an ApplicationFailure typed for retry policies and the CLI. */
export function toFailure(err: unknown, what: string, region: string): ApplicationFailure {
  if (err instanceof ApplicationFailure) return err; // already typed (e.g. the governor's WriteThrottled, with its retry delay)
  const info = describeAwsError(err);
  const message = `${what} in ${region}: ${info.name}: ${info.message}`;
  if (isUnreachable(err)) return ApplicationFailure.retryable(message, ErrorType.RegionUnreachable, { region, awsError: info.name });
  if (isThrottling(err) || RETRYABLE_AWS.has(info.name)) return ApplicationFailure.retryable(message, info.name, { region, awsError: info.name });
  if (isNotFound(err)) return ApplicationFailure.nonRetryable(message, ErrorType.SecretNotFound, { region, awsError: info.name });
  return ApplicationFailure.nonRetryable(message, ErrorType.AwsRejected, { region, awsError: info.name });
}

/**
 * The one classifier of AWS errors behind the monitor's and recover's probes (activities/aws-errors.ts
 * `classifyAwsError`) and the status report. Pure: error names and HTTP status only.
 */
import { z } from 'zod';

/**
 * What an AWS error says about a Region (DESIGN invariant 9: only unreachability is an outage).
 * `unreachable`: no answer (connection refused/reset, timeout, 5xx) — counts towards unhealthy;
 * `denied`: permissions or credentials (AccessDenied, expired/invalid token, bad signature);
 * `throttled`: rate exceeded; `rejected`: any other answer. The last three make a Region degraded
 * with the reason, and never confirm an outage or start a failover.
 */
export const AwsErrorClass = z.enum(['unreachable', 'denied', 'throttled', 'rejected']);
export type AwsErrorClass = z.infer<typeof AwsErrorClass>;

const DENIED_ERRORS = new Set([
  'AccessDeniedException',
  'AccessDenied',
  'ExpiredTokenException',
  'ExpiredToken',
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'SignatureDoesNotMatch',
  'IncompleteSignature',
  'IncompleteSignatureException',
  'InvalidClientTokenId',
  'MissingAuthenticationToken',
  'MissingAuthenticationTokenException',
  'NotAuthorized',
  'AuthFailure',
  'UnauthorizedOperation',
  'RequestExpired',
  'CredentialsProviderError',
  'TokenProviderError',
]);
/**
 * Also our own WriteLeaseLost (activities/write-governor.ts: a write this process may no longer send because another
 * worker holds the Region's write lease): like throttling, never one secret's failure, the batch's, retried by Temporal
 * on the holder.
 */
const THROTTLED_ERRORS = new Set([
  'ThrottlingException',
  'Throttling',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'ThrottledException',
  'SlowDown',
  'WriteLeaseLost',
]);

/**
 * The class an AWS error name (and HTTP status) tells by itself; undefined when only network-level
 * evidence can tell (activities/aws-errors.ts `classifyAwsError` adds it).
 */
export function classifyAwsErrorName(name: string, status?: number, message = ''): Exclude<AwsErrorClass, 'unreachable'> | undefined {
  if (DENIED_ERRORS.has(name) || status === 401 || status === 403) return 'denied';
  if (THROTTLED_ERRORS.has(name) || status === 429 || /rate exceeded/i.test(message)) return 'throttled';
  return undefined;
}

/**
 * The class of a failure our activities raised (`toFailure`: its type, and the AWS error's name in
 * its details); workflow code reads these, never the SDK error. No AWS error name: no answer.
 */
export function classifyFailure(type: string | undefined, awsError: string | undefined, message = ''): AwsErrorClass {
  if (type === 'RegionUnreachable' || awsError === undefined) return 'unreachable';
  return classifyAwsErrorName(awsError, undefined, message) ?? 'rejected';
}

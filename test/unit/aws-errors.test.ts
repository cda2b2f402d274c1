/**
 * Which errors fail a whole batch activity (thrown: Temporal retries the batch) and which are one secret's
 * outcome (reported, the batch goes on): `isBatchFailure`, shared by the failover and failback batches.
 */
import { describe, expect, it } from 'vitest';
import { ErrorType } from '../../domain/errors.js';
import { errorReason, isBatchFailure, isTransient, toFailure } from '../../activities/aws-errors.js';
import { cancelledFailure } from '../../activities/cancellation.js';
import { addWriteGate, WriteGovernor } from '../../activities/write-governor.js';

const awsError = (name: string, status: number, message = 'an answer') => Object.assign(new Error(message), { name, $metadata: { httpStatusCode: status } });
const networkError = () => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:4566'), { code: 'ECONNREFUSED' });

/** The failure the write governor raises when this process does not hold the Region's write lease. */
async function writeLeaseLost(): Promise<unknown> {
  const remove = addWriteGate('aws-errors-test', () => 'this worker process does not hold the write lease');
  try {
    return await new WriteGovernor(10, 'aws-errors-test/tagging').write(async () => 'sent').catch((e: unknown) => e);
  } finally {
    remove();
  }
}

describe('isBatchFailure: the batch fails (and is retried), not the secret', () => {
  it.each([
    ['throttling (ThrottlingException)', awsError('ThrottlingException', 400, 'Rate exceeded')],
    ['throttling told by the message only', awsError('LimitExceeded', 400, 'Rate exceeded')],
    ['no answer (connection refused)', networkError()],
    ['a 5xx answer', awsError('InternalServiceError', 500)],
    ['ServiceUnavailableException', awsError('ServiceUnavailableException', 503)],
    ["a call aborted by the activity's cancellation (the SDK's AbortError)", Object.assign(new Error('Request aborted'), { name: 'AbortError' })],
    ["the activity's end seen by our own code (a poll, a write waiting for its slot)", cancelledFailure()],
  ])('%s', (_what, err) => {
    expect(isBatchFailure(err)).toBe(true);
  });

  it('WriteLeaseLost from the write governor: the write goes to the worker holding the lease', async () => {
    const err = await writeLeaseLost();
    expect(err).toMatchObject({ type: ErrorType.WriteLeaseLost });
    expect(isBatchFailure(err)).toBe(true);
  });

  it('our RegionUnreachable failure, even when the AWS error name it keeps says nothing of reachability', () => {
    const failure = toFailure(awsError('ServiceUnavailable', 503), 'DescribeSecret s', 'ap-northeast-1');
    expect(failure.type).toBe(ErrorType.RegionUnreachable);
    expect(isBatchFailure(failure)).toBe(true);
  });
});

describe("isBatchFailure: one secret's outcome, the batch goes on", () => {
  it.each([
    ['AccessDeniedException (a fence, a policy)', awsError('AccessDeniedException', 400, 'explicit deny')],
    ['ResourceNotFoundException', awsError('ResourceNotFoundException', 400)],
    ['InvalidRequestException', awsError('InvalidRequestException', 400)],
    ['our AwsRejected failure', toFailure(awsError('InvalidParameterException', 400), 'PutSecretValue s', 'ap-northeast-1')],
  ])('%s', (_what, err) => {
    expect(isBatchFailure(err)).toBe(false);
  });
});

describe('isTransient: retryable and not throttling', () => {
  it('no answer and 5xx are transient; throttling and refusals are not (the governor owns throttling)', () => {
    expect([networkError(), awsError('InternalFailure', 500)].map(isTransient)).toEqual([true, true]);
    expect([awsError('ThrottlingException', 400), awsError('AccessDeniedException', 400)].map(isTransient)).toEqual([false, false]);
  });
});

describe('errorReason', () => {
  it("names the AWS error and its message, bounded to 300 characters (a report's reason)", () => {
    expect(errorReason(awsError('AccessDeniedException', 400, 'explicit deny'))).toBe('AccessDeniedException: explicit deny');
    expect(errorReason(awsError('InvalidRequestException', 400, 'x'.repeat(1_000)))).toHaveLength(300);
  });
});

/**
 * The worker's real SDK clients (worker/aws-clients.ts) over the wire to the lab: one retry layer per kind
 * of failure. Throttling is never retried by the SDK (one call reaches the lab); through the write governor
 * a write throttled every time reaches the lab exactly THROTTLED_TRIES times. A call that got no answer
 * (503) is retried by the SDK, at most SDK_MAX_ATTEMPTS sends.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { ApplicationFailure } from '@temporalio/common';
import type { RunningLab } from '../../lab/server.js';
import { createRegionClients } from '../../worker/aws-clients.js';
import { SDK_MAX_ATTEMPTS } from '../../worker/sdk-retry.js';
import { THROTTLED_TRIES, WriteGovernor } from '../../activities/write-governor.js';
import type { RegionClients } from '../../activities/clients.js';
import { ErrorType } from '../../domain/errors.js';
import { labGet, labPost, P, rejection, withLab } from './helpers.js';

let lab: RunningLab;
let clients: RegionClients;
const saved = { ...process.env };

beforeAll(async () => {
  lab = await withLab();
  // The SDK's own endpoint and credential variables, as a deployed worker gets them.
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_SECRETS_MANAGER: lab.url,
    AWS_ENDPOINT_URL_EVENTBRIDGE: lab.url,
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
  });
  clients = createRegionClients(P, { requestTimeoutMs: 5_000 });
  await clients.secretsManager.createSecret({ Name: 'retry/s', SecretString: 'x' });
});
afterAll(async () => {
  process.env = saved;
  await lab.close();
});
beforeEach(async () => {
  await labPost(lab, '/_lab/counters/reset', {});
});
afterEach(async () => {
  vi.restoreAllMocks();
  await labPost(lab, '/_lab/fault/clear', {});
});

const callsOf = async (op: string) => ((await labGet(lab, '/_lab/counters')) as Record<string, Record<string, { calls: number }>>)[P]?.[op]?.calls ?? 0;

describe('the SDK clients retry only calls that got no answer', () => {
  it('ThrottlingException: not retried by the SDK, one call reaches the lab', async () => {
    await labPost(lab, '/_lab/fault/fail-next', { region: P, op: 'DescribeSecret', count: 5, error: 'ThrottlingException' });
    const e = await rejection(clients.secretsManager.describeSecret({ SecretId: 'retry/s' }));
    expect(e.name).toBe('ThrottlingException');
    expect(await callsOf('DescribeSecret')).toBe(1);
  });

  it(`a 503 (no answer): retried, at most ${SDK_MAX_ATTEMPTS} sends; one 503 heals inside the call`, async () => {
    await labPost(lab, '/_lab/fault/fail-next', { region: P, op: 'DescribeSecret', count: 1, error: 'ServiceUnavailableException' });
    await clients.secretsManager.describeSecret({ SecretId: 'retry/s' });
    expect(await callsOf('DescribeSecret')).toBe(2);
    await labPost(lab, '/_lab/counters/reset', {});
    await labPost(lab, '/_lab/fault/fail-next', { region: P, op: 'DescribeSecret', count: 10, error: 'ServiceUnavailableException' });
    const e = await rejection(clients.secretsManager.describeSecret({ SecretId: 'retry/s' }));
    expect(e.name).toBe('ServiceUnavailableException');
    expect(await callsOf('DescribeSecret')).toBe(SDK_MAX_ATTEMPTS);
  });

  it('a refusal (AccessDeniedException): not retried', async () => {
    await labPost(lab, '/_lab/fault/fail-next', { region: P, op: 'DescribeSecret', count: 5, error: 'AccessDeniedException' });
    await rejection(clients.secretsManager.describeSecret({ SecretId: 'retry/s' }));
    expect(await callsOf('DescribeSecret')).toBe(1);
  });
});

describe('through the write governor', () => {
  it(`a PutSecretValue throttled every time reaches the lab exactly ${THROTTLED_TRIES} times, then WriteThrottled`, async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0); // the shortest jitter: ~5.7 s of backoff in all
    await labPost(lab, '/_lab/fault/fail-next', { region: P, op: 'PutSecretValue', count: 100, error: 'ThrottlingException' });
    const gov = new WriteGovernor(30, P);
    const e = await rejection(gov.write(() => clients.secretsManager.putSecretValue({ SecretId: 'retry/s', SecretString: 'y' })));
    expect(e).toBeInstanceOf(ApplicationFailure);
    expect((e as unknown as ApplicationFailure).type).toBe(ErrorType.WriteThrottled);
    expect(await callsOf('PutSecretValue')).toBe(THROTTLED_TRIES);
    expect(gov.stats).toMatchObject({ sends: THROTTLED_TRIES, throttled: THROTTLED_TRIES, writes: 0 });
  }, 20_000);
});

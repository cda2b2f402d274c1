/**
 * An activity's cancellation reaches its AWS calls (activities/cancellation.ts): the real SDK client and the signed
 * cross-account client against a server that never answers end with an AbortError when the activity is cancelled,
 * not after their 120-s timeout; a batch activity cancelled in the middle sends nothing more and is reported
 * cancelled, not completed with the aborted secrets counted as failed.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MockActivityEnvironment } from '@temporalio/testing';
import { Context } from '@temporalio/activity';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { DefaultLogger, type ActivityInboundCallsInterceptor } from '@temporalio/worker';
import { SecretsManager } from '@aws-sdk/client-secrets-manager';
import { abortable, activitySignal, cancelledOutcome, pause } from '../../activities/cancellation.js';
import { ErrorType } from '../../domain/errors.js';
import { SECRETS_MANAGER_OPERATIONS } from '../../activities/clients.js';
import { createFailoverActivities, type FailoverClients, type PromoteBatchInput } from '../../activities/failover.activities.js';
import { createCrossAccountClient } from '../../worker/cross-account-client.js';
import { createDrillActivities } from '../../activities/drill.activities.js';
import type { RegionClients } from '../../activities/clients.js';
import { hmacKeySecretName } from '../../domain/lineage.js';
import { FakeSecretsManager } from '../support/fake-secrets-manager.js';

const env = () => new MockActivityEnvironment({}, { logger: new DefaultLogger('ERROR') });
const abortError = () => Object.assign(new Error('Request aborted'), { name: 'AbortError' });

let server: Server;
let url: string;
let received = 0;
let open = 0;
beforeAll(async () => {
  // Reads the request, never answers: a hung Region.
  server = createServer((req) => {
    received++;
    req.resume();
  });
  server.on('connection', (socket) => {
    open++;
    socket.on('close', () => open--);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

async function waitFor(what: string, ok: () => boolean, ms = 5_000): Promise<void> {
  const until = performance.now() + ms;
  while (!ok()) {
    if (performance.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Runs `call` in an activity against the server that never answers, cancels the activity once the request arrived: AbortError within 2 s. */
async function expectAbortedAtCancel(call: () => Promise<unknown>): Promise<void> {
  const e = env();
  const before = received;
  const run = e.run(call).then(
    () => 'answered',
    (err: Error) => err,
  );
  await waitFor('the request to reach the server', () => received > before);
  const cancelledAt = performance.now();
  e.cancel();
  const out = await run;
  expect((out as Error).name).toBe('AbortError');
  expect(performance.now() - cancelledAt).toBeLessThan(2_000);
}

describe('abortable', () => {
  it("passes the running activity's signal to listed operations only; outside an activity, and with an explicit signal, the call is unchanged", async () => {
    const seen: Array<{ op: string; options: unknown }> = [];
    const client = {
      config: { region: 'eu-west-1' },
      listSecrets: (_i: unknown, options?: unknown) => (seen.push({ op: 'listSecrets', options }), Promise.resolve({})),
      destroy: (...args: unknown[]) => (seen.push({ op: 'destroy', options: args[1] }), undefined),
    };
    const wrapped = abortable(client, ['listSecrets']);
    expect(wrapped.config).toBe(client.config);
    await wrapped.listSecrets({});
    expect(seen.pop()).toEqual({ op: 'listSecrets', options: undefined });
    const mine = new AbortController().signal;
    const e = env();
    let signal: AbortSignal | undefined;
    await e.run(async () => {
      signal = activitySignal();
      await wrapped.listSecrets({});
      await wrapped.listSecrets({}, { abortSignal: mine });
      wrapped.destroy();
    });
    expect(signal).toBeDefined();
    expect(seen.map((s) => s.op)).toEqual(['listSecrets', 'listSecrets', 'destroy']);
    expect((seen[0]!.options as { abortSignal: unknown }).abortSignal).toBe(signal);
    expect((seen[1]!.options as { abortSignal: unknown }).abortSignal, 'an explicit signal wins').toBe(mine);
    expect(seen[2]!.options, 'an unlisted member is untouched').toBeUndefined();
  });

  it('the real SDK client: a call to a Region that never answers ends with AbortError when the activity is cancelled, not at its 120-s timeout', async () => {
    const sm = abortable(
      new SecretsManager({
        region: 'eu-west-1',
        endpoint: url,
        credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
        requestHandler: { requestTimeout: 120_000, throwOnRequestTimeout: true },
        maxAttempts: 1,
      }),
      SECRETS_MANAGER_OPERATIONS,
    );
    const openBefore = open;
    await expectAbortedAtCancel(() => sm.listSecrets({}));
    await waitFor('the connection to close', () => open === openBefore);
  });

  it('the signed cross-account client: the same', async () => {
    const client = createCrossAccountClient({
      region: 'eu-west-1',
      endpoint: url,
      credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
      requestTimeoutMs: 120_000,
    });
    await expectAbortedAtCancel(() => client.describeSecretCrossAccount({ SecretId: 'arn:aws:secretsmanager:eu-west-1:111111111111:secret:x' }));
  });
});

describe('cancelledOutcome', () => {
  const through = (next: () => Promise<unknown>, lease?: AbortSignal) => {
    const inbound = cancelledOutcome(() => lease)(Context.current()).inbound as ActivityInboundCallsInterceptor;
    return inbound.execute!({ args: [], headers: {} }, next);
  };

  it('the end of the write lease an activity started under ends its calls and polls: its outcome is WriteLeaseLost (retried on the new holder), not a result', async () => {
    const lease = new AbortController();
    let signalled: AbortSignal | undefined;
    const client = abortable(
      {
        listSecrets: (_i: unknown, options?: { abortSignal?: AbortSignal }) =>
          new Promise((_, reject) => options?.abortSignal?.addEventListener('abort', () => reject(abortError()))),
      },
      ['listSecrets'],
    );
    const run = env()
      .run(() =>
        through(async () => {
          signalled = activitySignal();
          // A batch that records the failed call as its secret's outcome and returns.
          const r = await client.listSecrets({}).then(
            () => 'listed',
            () => 'failed: recorded per secret',
          );
          return r;
        }, lease.signal),
      )
      .then(
        (r) => r,
        (err: unknown) => err,
      );
    await waitFor('the call to start', () => signalled !== undefined);
    lease.abort(new Error("this process's write lease of eu-west-1 was lost"));
    const out = (await run) as ApplicationFailure;
    expect(out).toBeInstanceOf(ApplicationFailure);
    expect(out.type).toBe(ErrorType.WriteLeaseLost);
    expect(out.nonRetryable).toBe(false);
    expect(out.message).toContain('write lease of eu-west-1 was lost');
    // A poll's sleep ends with the lease too.
    const lease2 = new AbortController();
    const sleeping = env().run(() => through(() => pause(60_000), lease2.signal));
    setTimeout(() => lease2.abort(new Error('yielded')), 50);
    await expect(sleeping).rejects.toMatchObject({ type: ErrorType.WriteLeaseLost });
  });

  it('an activity that returns or throws after its cancellation is reported cancelled; before it, its own outcome stands', async () => {
    expect(await env().run(() => through(async () => 'done'))).toBe('done');
    await expect(env().run(() => through(async () => Promise.reject(new Error('its own'))))).rejects.toThrow('its own');
    for (const outcome of [async () => 'a result built from aborted calls', async () => Promise.reject(new Error('RegionUnreachable'))]) {
      const e = env();
      const run = e.run(() =>
        through(async () => {
          e.cancel();
          return outcome();
        }),
      );
      await expect(run).rejects.toBeInstanceOf(CancelledFailure);
    }
  });

  it('promoteBatch cancelled while a StopReplicationToReplica hangs: the call aborts, no secret after it is touched, and the outcome is cancelled (not completed with that secret failed)', async () => {
    const region = 'ap-south-2';
    const fake = new FakeSecretsManager(region);
    const names = Array.from({ length: 8 }, (_, i) => `prod/app/c${i}`);
    for (const name of names) fake.seed(name, `value-of-${name}`, { primaryRegion: 'ap-south-1' });
    fake.seed(hmacKeySecretName('payments'), Buffer.alloc(32, 7).toString('base64'));
    const stopped: string[] = [];
    let hanging = false;
    const base = fake.only(
      'listSecrets',
      'describeSecret',
      'getSecretValue',
      'getResourcePolicy',
      'putResourcePolicy',
      'deleteResourcePolicy',
      'tagResource',
      'untagResource',
      'rotateSecret',
      'createSecret',
    );
    const secretsManager = {
      ...base,
      // As the SDK does: a call whose signal is already aborted is refused before it is sent. The third promotion
      // sent hangs until its call is aborted (only the activity's signal can end it).
      stopReplicationToReplica: (i: { SecretId: string }, options?: { abortSignal?: AbortSignal }) => {
        if (options?.abortSignal?.aborted) return Promise.reject(abortError());
        stopped.push(i.SecretId);
        if (stopped.length !== 3) return fake.stopReplicationToReplica(i as never);
        hanging = true;
        return new Promise((_, reject) => options?.abortSignal?.addEventListener('abort', () => reject(abortError())));
      },
    };
    const clients = { region, secretsManager: abortable(secretsManager, SECRETS_MANAGER_OPERATIONS) } as unknown as FailoverClients;
    const activities = createFailoverActivities(clients);
    const input: PromoteBatchInput = { planName: 'payments', from: 'ap-south-1', to: region, failoverId: 'f-1', batch: 'b0', names, writeQuotaShare: 1 };
    const e = env();
    const run = e
      .run(() => through(() => activities.promoteBatch(input)))
      .then(
        (r) => ({ completed: r }),
        (err: unknown) => ({ err }),
      );
    await waitFor('the third promotion to hang', () => hanging);
    const sentBefore = stopped.length;
    e.cancel();
    const out = await run;
    expect('err' in out && out.err, `the outcome: ${JSON.stringify(out).slice(0, 300)}`).toBeInstanceOf(CancelledFailure);
    // The batch's other lanes may still be queued in the write governor: give them time to reach the client.
    await new Promise((r) => setTimeout(r, 500));
    expect(stopped.length, 'no StopReplicationToReplica sent after the cancellation').toBe(sentBefore);
  });
});

describe('polling activities stop when cancelled', () => {
  it("a drill's lag measurement polling a DR Region whose reads fail ends at its cancellation, not at its deadline", async () => {
    const primary = new FakeSecretsManager('eu-south-1');
    primary.seed('drill/canary-1', 'v0');
    let polls = 0;
    const dr = {
      // Every read fails (a slow, failing Region): the loop polls again after each round.
      describeSecret: (_i: unknown, options?: { abortSignal?: AbortSignal }) => {
        polls++;
        return Promise.reject(options?.abortSignal?.aborted ? abortError() : Object.assign(new Error('unavailable'), { $metadata: { httpStatusCode: 503 } }));
      },
    };
    const clients = { region: 'eu-south-1', secretsManager: abortable(primary, SECRETS_MANAGER_OPERATIONS) } as unknown as RegionClients;
    const activities = createDrillActivities(
      clients,
      () => ({ region: 'eu-south-2', secretsManager: abortable(dr, SECRETS_MANAGER_OPERATIONS) }) as unknown as RegionClients,
    );
    const e = env();
    const run = e
      .run(activities.writeCanaryAndMeasureLag, { drillId: 'd-1', names: ['drill/canary-1'], drRegions: ['eu-south-2'], writeQuotaShare: 1, timeoutMs: 60_000 })
      .then(
        () => 'completed',
        (err: unknown) => err,
      );
    await waitFor('the lag poll to begin', () => polls > 2);
    const cancelledAt = performance.now();
    e.cancel();
    const out = await run;
    expect(out).toBeInstanceOf(CancelledFailure);
    expect(performance.now() - cancelledAt, 'ended at the next poll, not at the 60-s deadline').toBeLessThan(2_000);
  });
});

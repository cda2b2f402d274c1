/**
 * `promoteBatch` in MockActivityEnvironment over a fake Secrets Manager with just the failover
 * activities' operations (FailoverClients): heartbeat resume, and the one throttling retry layer.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MockActivityEnvironment } from '@temporalio/testing';
import { ApplicationFailure } from '@temporalio/common';
import { DefaultLogger } from '@temporalio/worker';
import { createFailoverActivities, type FailoverClients, type PromoteBatchInput, type PromoteBatchResult } from '../../activities/failover.activities.js';
import { RECOVERY_MS, THROTTLED_TRIES } from '../../activities/write-governor.js';
import { hmacKeySecretName } from '../../domain/lineage.js';
import { ErrorType } from '../../domain/errors.js';
import { awsError, FakeSecretsManager } from '../support/fake-secrets-manager.js';
import { parsePlanText } from '../../cli/plan-file.js';
import { nameFilterOf } from '../../domain/selection.js';

const PRIMARY = 'ap-northeast-1';

/** A DR Region with `n` replicas and the plan's HMAC key; the activities see only FailoverClients' operations. */
function drRegion(region: string, n: number) {
  const fake = new FakeSecretsManager(region);
  const names = Array.from({ length: n }, (_, i) => `prod/app/s${i}`);
  for (const name of names) fake.seed(name, `value-of-${name}`, { primaryRegion: PRIMARY });
  fake.seed(hmacKeySecretName('payments'), Buffer.alloc(32, 7).toString('base64'));
  const clients: FailoverClients = {
    region,
    secretsManager: fake.only(
      'listSecrets',
      'describeSecret',
      'getSecretValue',
      'stopReplicationToReplica',
      'getResourcePolicy',
      'putResourcePolicy',
      'deleteResourcePolicy',
      'tagResource',
      'untagResource',
      'rotateSecret',
      'createSecret',
    ),
  };
  return { fake, names, activities: createFailoverActivities(clients) };
}

const input = (to: string, names: string[]): PromoteBatchInput => ({
  planName: 'payments',
  from: PRIMARY,
  to,
  failoverId: 'failover-1',
  batch: 'b0',
  names,
  writeQuotaShare: 1,
});

/** Runs promoteBatch as one attempt, with the heartbeat details of the attempt before; returns its last heartbeat. */
async function attempt(activities: ReturnType<typeof createFailoverActivities>, args: PromoteBatchInput, heartbeatDetails?: unknown) {
  const env = new MockActivityEnvironment(heartbeatDetails === undefined ? {} : { heartbeatDetails, attempt: 2 }, { logger: new DefaultLogger('ERROR') });
  let last: unknown;
  env.on('heartbeat', (d: unknown) => {
    if (d !== undefined) last = d;
  });
  const result = await env.run(activities.promoteBatch, args).then(
    (r) => ({ ok: true as const, r: r as PromoteBatchResult }),
    (e: unknown) => ({ ok: false as const, e }),
  );
  return { result, lastHeartbeat: last as { outcomes: Array<{ name: string; status: string }> } | undefined };
}

afterEach(() => vi.restoreAllMocks());

describe('inspectFleet for verification', () => {
  it('replicasOf lists only the replicas of the old primary (the primary-region filter, applied by AWS), not every replica of the Region', async () => {
    const { fake, names, activities } = drRegion('ap-northeast-3', 5);
    await fake.stopReplicationToReplica({ SecretId: names[0]! });
    fake.seed('prod/app/elsewhere', 'v', { primaryRegion: 'us-east-1' }); // a replica, but not of the old primary
    const plan = parsePlanText(
      `name: payments\nprimaryRegion: ${PRIMARY}\ndrRegions: [{ region: ap-northeast-3 }]\nsecrets: { include: [{ prefix: prod/app/ }] }\n`,
    ).plan!;
    const run = async (replicasOf?: string) => {
      const env = new MockActivityEnvironment({}, { logger: new DefaultLogger('ERROR') });
      const r = (await env.run(activities.inspectFleet, { plan, region: 'ap-northeast-3', onlyReplicas: true, ...(replicasOf ? { replicasOf } : {}) })) as {
        entries: Array<{ name: string }>;
      };
      return r.entries.map((e) => e.name).sort();
    };
    expect(await run(PRIMARY)).toEqual(names.slice(1).sort());
    expect(await run()).toEqual([...names.slice(1), 'prod/app/elsewhere'].sort());
  });

  it("lists the plan's name prefixes only (ListSecrets name filter, with the primary-region one for verification); a tag selector lists the whole Region", async () => {
    const { fake } = drRegion('ap-northeast-3', 3);
    const sent: unknown[] = [];
    const listSecrets: typeof fake.listSecrets = async (i = {}) => (sent.push(i.Filters), fake.listSecrets(i));
    const clients: FailoverClients = { region: 'ap-northeast-3', secretsManager: { ...fake, listSecrets } };
    const activities = createFailoverActivities(clients);
    const planWith = (include: string) =>
      parsePlanText(`name: payments\nprimaryRegion: ${PRIMARY}\ndrRegions: [{ region: ap-northeast-3 }]\nsecrets: { include: ${include} }\n`).plan!;
    const inspect = (include: string, replicasOf?: string) =>
      new MockActivityEnvironment({}, { logger: new DefaultLogger('ERROR') }).run(activities.inspectFleet, {
        plan: planWith(include),
        region: 'ap-northeast-3',
        ...(replicasOf ? { replicasOf } : {}),
      });
    await inspect('[{ prefix: prod/app/ }, { name: x/y }]');
    await inspect('[{ prefix: prod/app/ }]', PRIMARY);
    await inspect('[{ prefix: prod/app/ }, { tag: { key: dr-tier } }]');
    expect(sent).toEqual([
      [{ Key: 'name', Values: ['prod/app/', 'x/y'] }],
      [
        { Key: 'name', Values: ['prod/app/'] },
        { Key: 'primary-region', Values: [PRIMARY] },
      ],
      undefined,
    ]);
    expect(nameFilterOf(planWith('[{ tag: { key: dr-tier } }]'))).toBeUndefined();
  });
});

describe('promoteBatch resumes from its heartbeat', () => {
  it('attempt 1 fails at one secret (the Region stops answering); attempt 2 starts after what attempt 1 heartbeated: nothing described or stopped twice, every secret promoted once', async () => {
    const { fake, names, activities } = drRegion('ap-northeast-3', 6);
    // s4 gets no answer (503, after the others had time to finish): the batch fails as a whole, retryably.
    fake.failNext('StopReplicationToReplica', () => awsError('ServiceUnavailableException', 'unavailable', 503), 1, { id: names[4], delayMs: 200 });
    const first = await attempt(activities, input('ap-northeast-3', names));
    expect(first.result.ok).toBe(false);
    const failure = (first.result as { e: unknown }).e as ApplicationFailure;
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure.type).toBe(ErrorType.RegionUnreachable);
    expect(failure.nonRetryable).toBe(false);
    const resumedFrom = first.lastHeartbeat!.outcomes.map((o) => o.name).sort();
    expect(resumedFrom, 'attempt 1 heartbeated the secrets it finished').toEqual(names.filter((n) => n !== names[4]));

    const before = fake.calls.length;
    const second = await attempt(activities, input('ap-northeast-3', names), first.lastHeartbeat);
    expect(second.result.ok).toBe(true);
    const secondCalls = fake.calls.slice(before);
    for (const name of resumedFrom)
      expect(
        secondCalls.filter((c) => c.id === name),
        `${name} was finished by attempt 1`,
      ).toEqual([]);
    expect(secondCalls.filter((c) => c.op === 'StopReplicationToReplica').map((c) => c.id)).toEqual([names[4]]);

    const { outcomes, lineage } = (second.result as { r: PromoteBatchResult }).r;
    expect(outcomes.map((o) => [o.name, o.status, o.writable, o.readable])).toEqual(names.map((n) => [n, 'promoted', true, true]));
    for (const name of names) expect(fake.callsOf('StopReplicationToReplica', name), name).toBe(name === names[4] ? 2 : 1);
    // The lineage record of the batch holds HMACs of every secret, both attempts' (resumed from the heartbeat), never values.
    const record = fake.secrets.get(lineage.record!)!;
    const text = [...record.versions.values()][0]!.value.SecretString!;
    expect((JSON.parse(text) as { secrets: Array<{ name: string }> }).secrets.map((s) => s.name).sort()).toEqual(names);
    for (const name of names) expect(text).not.toContain(`value-of-${name}`);
  });

  it('a heartbeat that names a secret: that secret is not touched at all, and its outcome is carried into the result', async () => {
    const { fake, names, activities } = drRegion('ap-northeast-2', 3);
    const carried = { name: names[0]!, status: 'promoted', standalone: true, rotation: false, by: 'failover-1', readable: true, writable: true };
    const run = await attempt(activities, input('ap-northeast-2', names), { outcomes: [carried], lineage: [], hmacs: true });
    expect(run.result.ok).toBe(true);
    expect(fake.calls.filter((c) => c.id === names[0])).toEqual([]);
    expect((run.result as { r: PromoteBatchResult }).r.outcomes[0]).toEqual(carried);
  });
});

describe('promoteBatch and throttling: one retry layer', () => {
  it(`a StopReplicationToReplica throttled every time is sent exactly ${THROTTLED_TRIES} times (the governor's tries; promoteBatch adds none), then the batch fails with WriteThrottled, retryable after ${RECOVERY_MS} ms`, async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0); // the shortest jitter: ~5.7 s of backoff in all
    const { fake, names, activities } = drRegion('eu-west-3', 1);
    fake.failNext('StopReplicationToReplica', () => awsError('ThrottlingException', 'Rate exceeded'), 1_000);
    const run = await attempt(activities, input('eu-west-3', names));
    expect(fake.callsOf('StopReplicationToReplica')).toBe(THROTTLED_TRIES);
    const failure = (run.result as { e: unknown }).e as ApplicationFailure;
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect([failure.type, failure.nonRetryable, failure.nextRetryDelay]).toEqual([ErrorType.WriteThrottled, false, RECOVERY_MS]);
  }, 20_000);

  it("a throttle that passes within the governor's tries costs no failure: promoted, each refusal sent again once", async () => {
    const { fake, names, activities } = drRegion('eu-west-2', 2);
    fake.failNext('StopReplicationToReplica', () => awsError('ThrottlingException', 'Rate exceeded'), 2, { id: names[1] });
    const run = await attempt(activities, input('eu-west-2', names));
    expect(run.result.ok).toBe(true);
    expect((run.result as { r: PromoteBatchResult }).r.outcomes.map((o) => o.status)).toEqual(['promoted', 'promoted']);
    expect([fake.callsOf('StopReplicationToReplica', names[0]), fake.callsOf('StopReplicationToReplica', names[1])]).toEqual([1, 3]);
  });
});

/**
 * `promoteBatch` in MockActivityEnvironment over a fake Secrets Manager with just the failover
 * activities' operations (FailoverClients): heartbeat resume, and the one throttling retry layer.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MockActivityEnvironment } from '@temporalio/testing';
import { ApplicationFailure } from '@temporalio/common';
import { DefaultLogger } from '@temporalio/worker';
import {
  createFailoverActivities,
  fencePolicy,
  type FailoverClients,
  type PromoteBatchInput,
  type PromoteBatchResult,
} from '../../activities/failover.activities.js';
import { addWriteGate, RECOVERY_MS, THROTTLED_TRIES, writeGovernor } from '../../activities/write-governor.js';
import { hmacKeySecretName } from '../../domain/lineage.js';
import { ErrorType } from '../../domain/errors.js';
import { awsError, FakeSecretsManager } from '../support/fake-secrets-manager.js';
import { parsePlanText } from '../../cli/plan-file.js';
import { nameFilterOf } from '../../domain/selection.js';
import { FENCE_TAG } from '../../domain/status.js';
import { FENCE_SID, FENCED_ACTIONS, lineageRecordName } from '../../domain/failover.js';
import { hasDenyStatement } from '../../domain/failback.js';
import { writeShareOf } from '../../domain/plan.js';

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

  it('after a batch failure no lane starts another secret (those already in flight end on their own): the retry does not meet this attempt working down the list', async () => {
    const { fake, names, activities } = drRegion('il-central-1', 200);
    // names[4] gets no answer: the batch fails; the other lanes (50) must not work down the remaining 150 secrets.
    fake.failNext('StopReplicationToReplica', () => awsError('ServiceUnavailableException', 'unavailable', 503), 1, { id: names[4], delayMs: 50 });
    const startedSecrets = () => new Set(fake.calls.filter((c) => c.op === 'DescribeSecret').map((c) => c.id));
    const first = await attempt(activities, input('il-central-1', names));
    expect(first.result.ok).toBe(false);
    expect(((first.result as { e: unknown }).e as ApplicationFailure).type, 'the batch failed on the 503 (the Region stopped answering)').toBe(
      ErrorType.RegionUnreachable,
    );
    const atFailure = startedSecrets();
    await new Promise((r) => setTimeout(r, 2_000)); // lanes in flight at the failure end (the governor sends ≤ 50/s)
    const described = startedSecrets();
    expect(
      [...described].filter((n) => !atFailure.has(n)),
      'secrets started after the batch failed',
    ).toEqual([]);
    expect(described.size, 'secrets the attempt touched: those before the failure, about one per lane').toBeLessThan(70);
    expect(fake.callsOf('StopReplicationToReplica'), 'the other lanes were promoting (they did not fail too)').toBeGreaterThan(5);
    expect(fake.callsOf('StopReplicationToReplica')).toBeLessThanOrEqual(described.size);
    expect(described.has(names[199]!), 'the last secret was never started').toBe(false);
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

describe('fenceBatch judges a fence by its policy statement, not its tag', () => {
  it('a secret still tagged fenced whose policy lost the deny statement (replaced since) is fenced again; one with both is left alone', async () => {
    // Prepare: the old primary Region, two secrets tagged fenced: one with the statement, one whose policy was replaced.
    const fake = new FakeSecretsManager(PRIMARY);
    const activities = createFailoverActivities({ region: PRIMARY, secretsManager: fake });
    const tags = { [FENCE_TAG]: 'failover f0 to ap-northeast-3' };
    fake.seed('prod/app/intact', 'v1', { tags, policy: fencePolicy(undefined) });
    fake.seed('prod/app/replaced', 'v2', {
      tags,
      policy: JSON.stringify({
        Version: '2012-10-17',
        Statement: [{ Sid: 'App', Effect: 'Allow', Principal: { AWS: '*' }, Action: 'secretsmanager:GetSecretValue', Resource: '*' }],
      }),
    });

    // Act
    const env = new MockActivityEnvironment({}, { logger: new DefaultLogger('ERROR') });
    const r = await env.run(activities.fenceBatch, {
      region: PRIMARY,
      to: 'ap-northeast-3',
      failoverId: 'f1',
      names: ['prod/app/intact', 'prod/app/replaced'],
      writeQuotaShare: 1,
    });

    // Assess
    expect(r).toEqual({ fenced: 1, alreadyFenced: 1, failed: [] });
    const policy = (await fake.getResourcePolicy({ SecretId: 'prod/app/replaced' })).ResourcePolicy;
    expect(hasDenyStatement(policy, FENCE_SID, FENCED_ACTIONS), policy).toBe(true);
    expect(policy).toContain('"Sid":"App"');
  });
});

describe("every procedure runs the governor in the plan's mode (writeQuotaShare: auto)", () => {
  it('a fence of an auto plan runs its policy and tagging governors adaptive, not fixed at the cap; a caller without a mode never resets them', async () => {
    // Prepare: a fresh Region (process-wide governors are per Region), one secret to fence.
    const region = 'eu-m6-fence';
    const fake = new FakeSecretsManager(region);
    fake.seed('prod/app/a', 'v');
    const activities = createFailoverActivities({ region, secretsManager: fake });

    // Act: the fence activity with the plan's mode, as the failover and fence workflows now pass it.
    const env = new MockActivityEnvironment({}, { logger: new DefaultLogger('ERROR') });
    await env.run(activities.fenceBatch, {
      region,
      to: 'eu-m6-dr',
      failoverId: 'f',
      names: ['prod/app/a'],
      writeQuotaShare: 0.9,
      writeQuotaShareMode: 'auto' as const,
    });

    // Assess (asking without a mode keeps the governor's own)
    expect(writeGovernor(`${region}/policy`, 0.9).isAdaptive).toBe(true);
    expect(writeGovernor(`${region}/tagging`, 0.9).isAdaptive).toBe(true);
    expect(writeGovernor(`${region}/tagging`, 0.9, 'fixed').isAdaptive, 'a fixed plan sets it back').toBe(false);
  });

  it("writeShareOf carries the plan's mode with its share (what every workflow passes its writing activities)", () => {
    const auto = parsePlanText(
      `name: p\nprimaryRegion: ${PRIMARY}\ndrRegions: [{ region: ap-northeast-3 }]\nsecrets: { include: [{ prefix: a/ }] }\nfailover: { writeQuotaShare: auto }\n`,
    ).plan!;
    const fixed = parsePlanText(`name: p\nprimaryRegion: ${PRIMARY}\ndrRegions: [{ region: ap-northeast-3 }]\nsecrets: { include: [{ prefix: a/ }] }\n`).plan!;
    expect(writeShareOf(auto.failover)).toEqual({ writeQuotaShare: 0.9, writeQuotaShareMode: 'auto' as const });
    expect(writeShareOf(fixed.failover)).toEqual({ writeQuotaShare: 0.6, writeQuotaShareMode: 'fixed' });
  });
});

describe('promoteBatch when this process loses the write lease mid-batch', () => {
  it('a lease that lapses after the promotions (a paused holder resumed) fails the batch with WriteLeaseLost, never marks the secrets not writable', async () => {
    // Prepare: the DR Region's gate is open for the StopReplicationToReplica calls, then closes (the lease lapsed).
    const { fake, names } = drRegion('eu-lease-lapse', 3);
    fake.seed(lineageRecordName('payments', 'failover-1', 'b0'), '{}'); // written by an earlier attempt: this one writes only the probes
    let held = true;
    const remove = addWriteGate('eu-lease-lapse', () => (held ? undefined : 'the write lease of eu-lease-lapse was not renewed in time'));
    const stop = fake.stopReplicationToReplica;
    let stopped = 0;
    fake.stopReplicationToReplica = async (i) => {
      const out = await stop(i);
      if (++stopped === names.length) held = false;
      return out;
    };
    try {
      // Act
      const r = await attempt(createFailoverActivities({ region: 'eu-lease-lapse', secretsManager: fake }), input('eu-lease-lapse', names));

      // Assess: the batch fails (retried on the holder, whose describe-first sees the promotions), no outcome says "not writable".
      expect(r.result.ok).toBe(false);
      expect((r.result as { e: unknown }).e).toMatchObject({ type: ErrorType.WriteLeaseLost });
    } finally {
      remove();
    }
  });
});

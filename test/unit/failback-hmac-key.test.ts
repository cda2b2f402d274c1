/**
 * Failback tells values apart by HMAC; without the plan's HMAC key (no `secrets-dr setup`) it falls back to version
 * ids. A key read that got no answer (throttled, unreachable) is not "no key": the batch fails and is retried, instead
 * of deciding every secret of it on version ids in silence.
 */
import { describe, expect, it } from 'vitest';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { hmacKeySecretName } from '../../domain/lineage.js';
import type { SecretFacts } from '../../domain/failback.js';
import { createFailbackActivities } from '../../activities/failback.activities.js';
import type { RegionClients } from '../../activities/clients.js';
import { FakeSecretsManager } from '../support/fake-secrets-manager.js';

const logger = new DefaultLogger('ERROR');
const throttled = () => Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } });

function regions(plan: string, withKey: boolean) {
  const [from, dr] = [new FakeSecretsManager('eu-r18-hmac-a'), new FakeSecretsManager('eu-r18-hmac-b')];
  for (const f of [from, dr]) {
    f.seed('prod/app/db', 'v1');
    if (withKey) f.seed(hmacKeySecretName(plan), Buffer.alloc(32, 7).toString('base64'));
  }
  const clients = (f: FakeSecretsManager) => ({ region: f.region, secretsManager: f }) as unknown as RegionClients;
  const activities = createFailbackActivities(clients(from), () => clients(dr));
  const inspect = () =>
    new MockActivityEnvironment({}, { logger }).run(activities.inspectFailbackBatch, { planName: plan, dr: dr.region, records: [], names: ['prod/app/db'] });
  return { from, dr, inspect };
}

describe("failback's side read and the plan's HMAC key", () => {
  it('a throttled key read fails the batch (retryable), not a silent fall back to version ids', async () => {
    // (The worker caches the key per Region and plan: each case has its own plan.)
    const { from, inspect } = regions('throttled', true);
    from.failNext('GetSecretValue', throttled, 10, { id: hmacKeySecretName('throttled') });
    await expect(inspect()).rejects.toMatchObject({ nonRetryable: false });
  });

  it('with the key readable, both sides carry HMACs', async () => {
    const { inspect } = regions('readable', true);
    const [facts] = (await inspect()) as SecretFacts[];
    expect(facts!.original.currentHmac).toMatch(/^hmac-sha256:/);
    expect(facts!.dr.currentHmac).toMatch(/^hmac-sha256:/);
  });

  it('without a key (no setup), versions are told apart by id, as documented', async () => {
    const { inspect } = regions('no-setup', false);
    const [facts] = (await inspect()) as SecretFacts[];
    expect(facts!.original.exists).toBe(true);
    expect(facts!.original.currentHmac).toBeUndefined();
    expect(facts!.original.current).toBe('prod/app/db-v1');
  });
});

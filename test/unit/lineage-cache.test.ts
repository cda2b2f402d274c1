/**
 * readLineage remembers the HMACs of versions it read (a version's value never changes), but an HMAC computed under
 * one HMAC key is never returned under another, and a remembered HMAC never hides a secret whose value can no longer
 * be decrypted (its KMS key disabled or its grant revoked since): AWSCURRENT is read on every call (issue 18 review).
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { createLineageActivities, hmacOf } from '../../activities/lineage.activities.js';
import type { RegionClients } from '../../activities/clients.js';
import { hmacKeySecretName, type SecretLineage } from '../../domain/lineage.js';
import { awsError, FakeSecretsManager } from '../support/fake-secrets-manager.js';

const KEY_A = Buffer.alloc(32, 1);
const KEY_B = Buffer.alloc(32, 2);

function region(name: string) {
  const fake = new FakeSecretsManager(name);
  fake.seed(hmacKeySecretName('payments'), KEY_A.toString('base64'));
  fake.seed('prod/db', 'current-value', { previous: 'previous-value' });
  const activities = createLineageActivities({ region: name, secretsManager: fake } as unknown as RegionClients);
  const read = async (): Promise<SecretLineage> => {
    const env = new MockActivityEnvironment({}, { logger: new DefaultLogger('ERROR') });
    const l: SecretLineage | undefined = await env.run(activities.readLineage, { planName: 'payments', secretId: 'prod/db' });
    if (!l) throw new Error('prod/db not found');
    return l;
  };
  return { fake, read };
}
const hmacsOf = (l: SecretLineage) => Object.fromEntries(l.versions.map((v) => [v.stages.join(','), v.hmac]));

afterEach(() => {
  vi.useRealTimers();
});

describe('readLineage: remembered HMACs', () => {
  it('after the HMAC key rotates, every HMAC is computed under the new key (none remembered under the old one comes back)', async () => {
    // Prepare: one read under key A (both versions remembered).
    vi.useFakeTimers({ toFake: ['Date'], now: Date.UTC(2026, 11, 2) });
    const { fake, read } = region('eu-r18-rotate');
    expect(hmacsOf(await read())).toEqual({ AWSCURRENT: hmacOf(KEY_A, 'current-value'), AWSPREVIOUS: hmacOf(KEY_A, 'previous-value') });

    // Act: the key secret gets a new value; the key is read again once the key cache's term is over.
    await fake.putSecretValue({ SecretId: hmacKeySecretName('payments'), SecretString: KEY_B.toString('base64') });
    vi.setSystemTime(Date.now() + 6 * 60_000);
    const after = await read();

    // Assess
    expect(hmacsOf(after)).toEqual({ AWSCURRENT: hmacOf(KEY_B, 'current-value'), AWSPREVIOUS: hmacOf(KEY_B, 'previous-value') });
  });

  it('a secret whose value can no longer be decrypted (KMS key disabled since the last read) fails the read, as an unremembered one does', async () => {
    // Prepare: a first read remembers both versions' HMACs.
    const { fake, read } = region('eu-r18-kms');
    await read();
    const before = fake.callsOf('GetSecretValue', 'prod/db');

    // Act: the secret's KMS key becomes unusable.
    fake.failNext('GetSecretValue', () => awsError('KMSInvalidStateException', 'The KMS key is disabled.'), 10, { id: 'prod/db' });
    const out = await read().then(
      () => 'read',
      (e: unknown) => e,
    );

    // Assess
    expect(out).toMatchObject({ message: expect.stringMatching(/KMSInvalidStateException/) });
    expect(fake.callsOf('GetSecretValue', 'prod/db') - before, 'AWSCURRENT is read again').toBeGreaterThan(0);
  });

  it('AWSCURRENT is read on every call; the other labelled versions come from memory', async () => {
    const { fake, read } = region('eu-r18-reads');
    const first = await read();
    const before = fake.callsOf('GetSecretValue', 'prod/db');
    expect(before).toBe(2);
    const second = await read();
    expect(fake.callsOf('GetSecretValue', 'prod/db') - before).toBe(1);
    expect(second.versions).toEqual(first.versions);
  });
});

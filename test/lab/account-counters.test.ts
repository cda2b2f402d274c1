/**
 * The lab's call counters per account (`GET /_lab/counters?accountId=ID`, `?by=account`, and the same on
 * `/_lab/counters/rate`): each call is counted for its access key's account — also a revoked account's refused
 * calls, and STS — while the default per-Region shape keeps adding every account up for existing callers.
 */
import { CreateSecretCommand, DescribeSecretCommand, PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { RunningLab } from '../../lab/server.js';
import { DR, labGet, labPost, P, withLab } from './helpers.js';
import { assumeRole } from '../../worker/sts-client.js';

const PRIMARY = '111111111111';
const RECOVERY = '222222222222';
const DEFAULT = '123456789012';
type Counts = Record<string, Record<string, { calls: number; throttled: number; failed: number }>>;
type Rates = Record<string, Record<string, { calls: number; maxPerSecond: number }>>;

let lab: RunningLab;
beforeAll(async () => {
  lab = await withLab();
});
afterAll(async () => {
  await lab?.close();
});
beforeEach(() => lab.reset());

const client = (accessKeyId: string, region = P) =>
  new SecretsManagerClient({ region, endpoint: lab.url, credentials: { accessKeyId, secretAccessKey: 'x' }, maxAttempts: 1 });

describe('lab counters per account', () => {
  it('counts each call for its key’s account; the default shape adds the accounts up per Region', async () => {
    // Prepare: two accounts and the default one write in the same Region.
    await client(`lab${PRIMARY}`).send(new CreateSecretCommand({ Name: 'a', SecretString: 'v' }));
    await client(`lab${PRIMARY}`).send(new PutSecretValueCommand({ SecretId: 'a', SecretString: 'w' }));
    await client(`lab${RECOVERY}`).send(new CreateSecretCommand({ Name: 'a', SecretString: 'v' }));
    await client('test')
      .send(new DescribeSecretCommand({ SecretId: 'missing' }))
      .catch(() => undefined);
    await client(`lab${RECOVERY}`, DR)
      .send(new DescribeSecretCommand({ SecretId: 'missing' }))
      .catch(() => undefined);

    // Act
    const all = (await labGet(lab, '/_lab/counters')) as Counts;
    const primary = (await labGet(lab, `/_lab/counters?accountId=${PRIMARY}`)) as Counts;
    const recovery = (await labGet(lab, `/_lab/counters?accountId=${RECOVERY}`)) as Counts;
    const byAccount = (await labGet(lab, '/_lab/counters?by=account')) as Record<string, Counts>;

    // Assess: per account, and the old per-Region shape with every account added up.
    expect(primary).toEqual({ [P]: { CreateSecret: { calls: 1, throttled: 0, failed: 0 }, PutSecretValue: { calls: 1, throttled: 0, failed: 0 } } });
    expect(recovery[P]).toEqual({ CreateSecret: { calls: 1, throttled: 0, failed: 0 } });
    expect(recovery[DR]?.DescribeSecret?.calls).toBe(1);
    expect(all[P]?.CreateSecret?.calls).toBe(2);
    expect(all[P]?.DescribeSecret?.calls).toBe(1);
    expect(all[DR]?.DescribeSecret?.calls).toBe(1);
    expect(Object.keys(byAccount).sort()).toEqual([PRIMARY, RECOVERY, DEFAULT].sort());
    expect(byAccount[PRIMARY]).toEqual(primary);
    expect(byAccount[DEFAULT]?.[P]?.DescribeSecret?.calls).toBe(1);
    expect(lab.counters.get(P, 'CreateSecret').calls).toBe(2);
    expect(lab.counters.get(P, 'CreateSecret', RECOVERY).calls).toBe(1);
  });

  it('rates per account: each account’s write bucket is judged on its own calls', async () => {
    for (let i = 0; i < 3; i++) await client(`lab${PRIMARY}`).send(new CreateSecretCommand({ Name: `p${i}`, SecretString: 'v' }));
    await client(`lab${RECOVERY}`).send(new CreateSecretCommand({ Name: 'r', SecretString: 'v' }));
    await client(`lab${RECOVERY}`).send(new PutSecretValueCommand({ SecretId: 'r', SecretString: 'w' }));

    const all = (await labGet(lab, '/_lab/counters/rate')) as Rates;
    const recovery = (await labGet(lab, `/_lab/counters/rate?accountId=${RECOVERY}`)) as Rates;
    const byAccount = (await labGet(lab, '/_lab/counters/rate?by=account')) as Record<string, Rates>;

    expect(all[P]?.create?.calls).toBe(4);
    expect(recovery[P]?.create?.calls).toBe(1);
    expect(recovery[P]?.write?.calls).toBe(1);
    expect(byAccount[PRIMARY]?.[P]?.create?.calls).toBe(3);
    expect(byAccount[PRIMARY]?.[P]?.write).toBeUndefined();
  });

  it('a revoked account’s refused calls and STS calls are counted for the account of the key', async () => {
    await labPost(lab, '/_lab/roles', { accountId: RECOVERY, roleName: 'dr', trustedAccounts: [PRIMARY] });
    await assumeRole(
      { region: P, endpoint: lab.url, credentials: { accessKeyId: `lab${PRIMARY}`, secretAccessKey: 'x' } },
      { RoleArn: `arn:aws:iam::${RECOVERY}:role/dr`, RoleSessionName: 'counters-test' },
    );
    await labPost(lab, `/_lab/accounts/${PRIMARY}/revoke`);
    await client(`lab${PRIMARY}`)
      .send(new DescribeSecretCommand({ SecretId: 'x' }))
      .catch(() => undefined);

    const primary = (await labGet(lab, `/_lab/counters?accountId=${PRIMARY}`)) as Counts;
    expect(primary[P]?.['sts:AssumeRole']).toEqual({ calls: 1, throttled: 0, failed: 0 });
    expect(primary[P]?.DescribeSecret).toEqual({ calls: 1, throttled: 0, failed: 1 });
    expect((await labGet(lab, `/_lab/counters?accountId=${RECOVERY}`)) as Counts).toEqual({});
  });

  it('reset drops one account’s counts, or some Regions’; a malformed account id or view is refused with the field named', async () => {
    await client(`lab${PRIMARY}`).send(new CreateSecretCommand({ Name: 'a', SecretString: 'v' }));
    await client(`lab${RECOVERY}`).send(new CreateSecretCommand({ Name: 'a', SecretString: 'v' }));
    expect((await labPost(lab, '/_lab/counters/reset', { accounts: [PRIMARY] })).status).toBe(200);
    expect(await labGet(lab, `/_lab/counters?accountId=${PRIMARY}`)).toEqual({});
    expect(((await labGet(lab, '/_lab/counters')) as Counts)[P]?.CreateSecret?.calls).toBe(1);

    const bad = await fetch(`${lab.url}/_lab/counters?accountId=12`);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toMatch(/"accountId" must be a 12-digit/);
    const badView = await fetch(`${lab.url}/_lab/counters/rate?by=secret`);
    expect(badView.status).toBe(400);
    expect(((await badView.json()) as { error: string }).error).toMatch(/"by" must be/);
    const badReset = await labPost(lab, '/_lab/counters/reset', { accounts: ['x'] });
    expect(badReset.status).toBe(400);
    expect((badReset.json as { error: string }).error).toMatch(/"accounts" must be/);
  });
});

import { describe, expect, it } from 'vitest';
import { assumedRoleCredentials, REFRESH_BEFORE_MS, type AssumeRoleRequest, type TemporaryCredentials } from '../../activities/account-credentials.js';

const account = { accountId: '210987654321', roleArn: 'arn:aws:iam::210987654321:role/secrets-dr-recovery', externalId: 'ext-1' };
const HOUR = 3_600_000;

function fakeSts(clock: { t: number }) {
  const calls: AssumeRoleRequest[] = [];
  let fail: Error | undefined;
  const assumeRole = async (r: AssumeRoleRequest): Promise<TemporaryCredentials> => {
    calls.push(r);
    await Promise.resolve();
    if (fail) throw fail;
    return { accessKeyId: `ASIA${calls.length}`, secretAccessKey: 's', sessionToken: 't', expiration: new Date(clock.t + r.durationSeconds * 1000) };
  };
  return { calls, assumeRole, failWith: (e: Error | undefined) => (fail = e) };
}

describe('recovery-account credentials (STS AssumeRole, refreshed before expiry)', () => {
  it('assumes the plan role with its ExternalId once, and reuses the session until the refresh margin', async () => {
    const clock = { t: 1_000_000 };
    const sts = fakeSts(clock);
    const creds = assumedRoleCredentials(account, sts.assumeRole, { now: () => clock.t });
    const [a, b] = await Promise.all([creds(), creds()]);
    expect(sts.calls).toEqual([{ roleArn: account.roleArn, externalId: 'ext-1', sessionName: 'secrets-dr-210987654321', durationSeconds: 3600 }]);
    expect(a.accessKeyId).toBe('ASIA1');
    expect(b).toBe(a);
    clock.t += HOUR - REFRESH_BEFORE_MS - 1;
    expect((await creds()).accessKeyId).toBe('ASIA1');
    clock.t += 2;
    expect((await creds()).accessKeyId).toBe('ASIA2');
    expect(sts.calls).toHaveLength(2);
  });

  it('keeps still-valid credentials when a refresh fails, and names the role once they have expired', async () => {
    const clock = { t: 0 };
    const sts = fakeSts(clock);
    const creds = assumedRoleCredentials(account, sts.assumeRole, { now: () => clock.t });
    await creds();
    clock.t = HOUR - 60_000; // inside the margin, not expired
    sts.failWith(Object.assign(new Error('not authorized to perform sts:AssumeRole'), { name: 'AccessDenied' }));
    expect((await creds()).accessKeyId).toBe('ASIA1');
    clock.t = HOUR + 1;
    await expect(creds()).rejects.toThrow(
      /^AssumeRole arn:aws:iam::210987654321:role\/secrets-dr-recovery \(recovery account 210987654321\) failed: AccessDenied: .*trust policy/,
    );
    sts.failWith(undefined);
    expect((await creds()).accessKeyId).toBe('ASIA4');
  });
});

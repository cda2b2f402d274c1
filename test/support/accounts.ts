/**
 * Account DR fixtures on the lab: a recovery account with the plan's role (trusting the primary
 * accounts, with an ExternalId, under the generated recovery-role policy, which the lab enforces)
 * and its customer managed key (whose policy lets the primary accounts encrypt), and plans over a
 * name prefix that list it. Seeding uses `lab<12 digits>` keys, which choose the account.
 */
import { CreateSecretCommand, GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { policyFor } from '../../domain/iam.js';
import type { Plan } from '../../domain/plan.js';
import type { Harness } from './integration.js';

export const RECOVERY = '210987654321';
export const LAB_DEFAULT = '123456789012';
/** A primary account of its own, for tests that revoke it (revoking the lab's default account would stop every other test file). */
export const DOOMED = '310987654321';
export const EXTERNAL_ID = 'acct-dr-test-7f3a';
export const ROLE = `arn:aws:iam::${RECOVERY}:role/secrets-dr-recovery`;
export const KEY = 'alias/payments-recovery';
export const keyOf = (account: string) => ({ accessKeyId: `lab${account}`, secretAccessKey: 'x' });

interface FixtureOptions {
  /** The recovery account's role the plans name (default ROLE). */
  roleArn?: string;
  /** The primary account besides the lab's default that the role trusts and the key lets encrypt (default DOOMED). */
  primary?: string;
  /** The plan's lines after `recoveryAccounts` (given the test's `extra`). */
  settings?: (extra: string) => string;
}

export function accountFixtures(h: Harness, labUrl: string, o: FixtureOptions = {}) {
  const roleArn = o.roleArn ?? ROLE;
  const primaries = [LAB_DEFAULT, o.primary ?? DOOMED];
  const settings = o.settings ?? ((extra: string) => `failover: { requireApproval: false }\nfailback: { onBothChanged: keep-dr }\n${extra}`);
  const sm = (account: string) => new SecretsManagerClient({ region: h.primaryRegion, endpoint: labUrl, credentials: keyOf(account), maxAttempts: 1 });
  const lab = async (path: string, body: unknown) => {
    const res = await fetch(`${labUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
  };
  return {
    sm,
    lab,
    read: async (account: string, name: string) => (await sm(account).send(new GetSecretValueCommand({ SecretId: name }))).SecretString,
    async accounts() {
      for (const accountId of [RECOVERY, DOOMED]) await lab('/_lab/accounts', { accountId });
    },
    async seed(account: string, names: string[], value: () => string, tags?: Array<{ Key: string; Value: string }>): Promise<Record<string, string>> {
      const out: Record<string, string> = {};
      for (const name of names) {
        out[name] = value();
        await sm(account).send(new CreateSecretCommand({ Name: name, SecretString: out[name], ...(tags ? { Tags: tags } : {}) }));
      }
      return out;
    },
    /** A plan over `prefix` listing the recovery account; the role and key policies set up for it. */
    async planFor(prefix: string, extra = ''): Promise<Plan> {
      const base = h.plan(
        `recoveryAccounts:\n  - { accountId: "${RECOVERY}", roleArn: "${roleArn}", externalId: ${EXTERNAL_ID}, kmsKeyId: ${KEY} }\n${settings(extra)}`,
      );
      const plan: Plan = { ...base, name: `${base.name}-${prefix.split('/').at(-2)}`, secrets: { include: [{ prefix }], exclude: [] } };
      await lab('/_lab/roles', {
        roleArn,
        trustedAccounts: primaries,
        externalId: EXTERNAL_ID,
        // One policy for every plan of the file (`<file plan>*`): the lab binds a role's policy to each session when AssumeRole
        // issues it, and the worker keeps its session for up to an hour.
        policy: policyFor('recovery', { ...plan, name: `${base.name}*`, secrets: { include: [{ prefix: h.names }], exclude: [] } }, { accountId: RECOVERY }),
      });
      await lab('/_lab/kms/key-policy', {
        accountId: RECOVERY,
        region: h.primaryRegion,
        keyId: KEY,
        policy: {
          Version: '2012-10-17',
          Statement: [
            { Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${RECOVERY}:root` }, Action: 'kms:*', Resource: '*' },
            { Effect: 'Allow', Principal: { AWS: primaries }, Action: ['kms:Encrypt', 'kms:GenerateDataKey'], Resource: '*' },
          ],
        },
      });
      return plan;
    },
  };
}

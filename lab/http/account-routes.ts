/**
 * /_lab/ routes of the lab's accounts, STS roles and KMS key policies (lab/accounts/, lab/sts/, lab/kms/):
 *   GET  /_lab/accounts                      {defaultAccountId, accounts: [{accountId, organizationId, revoked, secrets}], temporaryKeys}
 *   POST /_lab/accounts                      {accountId, organizationId?}   creates the account (and sets its organization)
 *   POST /_lab/accounts/<id>/revoke          every key of the account then answers UnrecognizedClientException
 *                                            (STS: InvalidClientTokenId): "the account is compromised"
 *   POST /_lab/accounts/<id>/restore         undoes revoke
 *   GET  /_lab/roles                         the roles
 *   POST /_lab/roles                         {roleArn | (accountId, roleName), trustedAccounts?: [id], externalId?, policy?, maxSessionSeconds?}
 *   GET  /_lab/kms/key-policy                the key policies registered
 *   POST /_lab/kms/key-policy                {accountId?, region, keyId, policy}   (a key without one has KMS's default policy: its own account only)
 */
import type { LabCore } from '../core.js';
import { isAccountId, parseRoleArn } from '../accounts/directory.js';
import { parsePolicy, PolicyError } from '../iam/policy.js';
import { BadLabRequest, labArgs, type LabRoutes } from './lab-request.js';

/** Rewrites `/_lab/accounts/<id>/<verb>` to its route and the account id (query `accountId`). */
export function accountPathRoute(path: string): { path: string; accountId: string } | undefined {
  const m = /^\/_lab\/accounts\/(\d{12})\/(revoke|restore)$/.exec(path);
  return m ? { path: `/_lab/accounts/${m[2]}`, accountId: m[1]! } : undefined;
}

function accountOf(v: unknown, field: string): string {
  if (!isAccountId(v)) throw new BadLabRequest(`"${field}" must be a 12-digit AWS account id`);
  return v;
}

export function accountRoutes(core: LabCore): LabRoutes {
  const { directory, kms } = core;
  const { requireRegion } = labArgs(core.regions, core.regionSet);
  return {
    'GET /_lab/accounts': () => ({
      defaultAccountId: core.accountId,
      accounts: core.accounts().map((a) => ({
        accountId: a.accountId,
        organizationId: directory.organizationOf(a.accountId),
        revoked: directory.isRevoked(a.accountId),
        secrets: a.secretsManager.counts(),
      })),
      revoked: directory.revokedAccounts(),
      temporaryKeys: directory.temporaryKeys(),
    }),
    'POST /_lab/accounts': (b) => {
      const id = accountOf(b.accountId, 'accountId');
      if (b.organizationId !== undefined) {
        if (typeof b.organizationId !== 'string' || !/^o-[a-z0-9]{1,32}$/.test(b.organizationId))
          throw new BadLabRequest('"organizationId" must look like o-abc123');
        directory.setOrganization(id, b.organizationId);
      }
      core.account(id);
      return { ok: true, accountId: id, organizationId: directory.organizationOf(id) };
    },
    'POST /_lab/accounts/revoke': (_b, q) => {
      const id = accountOf(q.get('accountId'), 'accountId');
      directory.revoke(id);
      return { ok: true, accountId: id, revoked: true };
    },
    'POST /_lab/accounts/restore': (_b, q) => {
      const id = accountOf(q.get('accountId'), 'accountId');
      return { ok: directory.reinstate(id), accountId: id, revoked: false };
    },
    'GET /_lab/roles': () => ({ roles: directory.listRoles().map(({ policy, ...r }) => ({ ...r, hasPolicy: policy !== undefined })) }),
    'POST /_lab/roles': (b) => {
      let arn: string;
      if (typeof b.roleArn === 'string') arn = b.roleArn;
      else if (typeof b.roleName === 'string') arn = `arn:aws:iam::${accountOf(b.accountId, 'accountId')}:role/${b.roleName}`;
      else throw new BadLabRequest('give "roleArn", or "accountId" and "roleName"');
      const parsed = parseRoleArn(arn);
      if (!parsed) throw new BadLabRequest(`"${arn}" is not a role ARN (arn:aws:iam::<12 digits>:role/<name>)`);
      let trusted: string[] | undefined;
      if (b.trustedAccounts !== undefined) {
        if (!Array.isArray(b.trustedAccounts)) throw new BadLabRequest('"trustedAccounts" must be a list of account ids');
        trusted = b.trustedAccounts.map((t, i) => accountOf(t, `trustedAccounts[${i}]`));
      }
      if (b.externalId !== undefined && (typeof b.externalId !== 'string' || !/^[\w+=,.@:/-]{2,1224}$/.test(b.externalId))) {
        throw new BadLabRequest('"externalId" must be 2-1224 characters of [\\w+=,.@:/-]');
      }
      const max = b.maxSessionSeconds ?? 3600;
      if (typeof max !== 'number' || !Number.isInteger(max) || max < 3600 || max > 43200)
        throw new BadLabRequest('"maxSessionSeconds" must be an integer 3600..43200');
      if (b.policy !== undefined) {
        // Checked now, bound to each key AssumeRole issues.
        try {
          parsePolicy(b.policy, 'POST /_lab/roles "policy"');
        } catch (e) {
          if (e instanceof PolicyError) throw new BadLabRequest(e.message);
          throw e;
        }
      }
      directory.putRole({
        arn,
        accountId: parsed.accountId,
        name: parsed.name,
        maxSessionSeconds: max,
        ...(trusted ? { trustedAccounts: trusted } : {}),
        ...(typeof b.externalId === 'string' ? { externalId: b.externalId } : {}),
        ...(b.policy !== undefined ? { policy: b.policy } : {}),
      });
      return { ok: true, roleArn: arn };
    },
    'GET /_lab/kms/key-policy': () => ({ keys: kms.list() }),
    'POST /_lab/kms/key-policy': (b) => {
      const region = requireRegion(b);
      const accountId = b.accountId === undefined ? core.accountId : accountOf(b.accountId, 'accountId');
      if (typeof b.keyId !== 'string' || b.keyId === '') throw new BadLabRequest('"keyId" is required (key id, alias/NAME or key ARN)');
      const text = typeof b.policy === 'string' ? b.policy : JSON.stringify(b.policy);
      try {
        const doc = JSON.parse(text) as { Statement?: unknown };
        if (!doc || typeof doc !== 'object' || doc.Statement === undefined) throw new Error('no Statement');
      } catch (e) {
        throw new BadLabRequest(`"policy" must be a key policy document with a Statement (${(e as Error).message})`);
      }
      return { ok: true, keyArn: kms.put({ accountId, region, keyId: b.keyId }, text) };
    },
  };
}

/**
 * `secrets-dr lab account list|revoke|restore` and `lab role create`: the lab's accounts (the access key
 * `lab<12 digits>` is that account; STS AssumeRole hands out keys of the role's account) and the demo's
 * "the account is compromised": revoke makes every key of the account answer UnrecognizedClientException
 * (STS: InvalidClientTokenId), as AWS does for deleted or invalid keys.
 */
import { z } from 'zod';
import { ExitCode } from '../../domain/errors.js';
import { defineCommand } from '../command.js';
import { printJson, type Io } from '../output.js';
import { callLab } from './lab.js';

const AccountId = z.string({ error: 'needs an AWS account id (12 digits)' }).regex(/^\d{12}$/, { error: 'an AWS account id is 12 digits' });

export const labAccountListCommand = defineCommand({
  words: ['lab', 'account', 'list'],
  summary: "the lab's accounts: default, created, revoked",
  examples: ['secrets-dr lab account list --json'],
  options: {},
  schema: z.object({ json: z.boolean(), positionals: z.array(z.string()).max(0, { error: 'this command takes no arguments' }) }),
  async run(_opts, io: Io) {
    const a = await callLab((lab) => lab.accounts());
    if (io.json) printJson(io, a);
    else {
      for (const x of a.accounts) {
        io.out(`${x.accountId}${x.accountId === a.defaultAccountId ? ' (default)' : ''}  ${x.organizationId}${x.revoked ? '  REVOKED' : ''}`);
      }
      io.out(`access key lab<12 digits> = that account; ${a.temporaryKeys} STS key(s) issued`);
    }
    return ExitCode.Ok;
  },
});

const accountVerb = (verb: 'revoke' | 'restore') =>
  defineCommand({
    words: ['lab', 'account', verb],
    summary:
      verb === 'revoke' ? 'revoke every key of an account (the account is compromised): its calls get UnrecognizedClientException' : 'undo lab account revoke',
    examples: [`secrets-dr lab account ${verb} 111111111111`],
    options: {},
    schema: z.object({ json: z.boolean(), positionals: z.tuple([AccountId], { error: `lab account ${verb} takes one account id` }) }),
    async run(opts, io: Io) {
      const id = opts.positionals[0];
      const r = await callLab((lab) => (verb === 'revoke' ? lab.revokeAccount(id) : lab.restoreAccount(id)));
      if (io.json) printJson(io, r);
      else io.out(verb === 'revoke' ? `account ${id}: every key revoked (UnrecognizedClientException)` : `account ${id}: keys work again`);
      return ExitCode.Ok;
    },
  });
export const labAccountRevokeCommand = accountVerb('revoke');
export const labAccountRestoreCommand = accountVerb('restore');

export const labRoleCreateCommand = defineCommand({
  words: ['lab', 'role', 'create'],
  summary: 'create a role STS AssumeRole checks (trusted accounts, external id)',
  examples: ['secrets-dr lab role create --account 222222222222 --name secrets-dr-recovery --trust 111111111111 --external-id payments-dr'],
  options: {
    account: { type: 'string', placeholder: 'ACCOUNT_ID', description: "the role's account" },
    name: { type: 'string', placeholder: 'NAME', description: 'the role name' },
    trust: { type: 'string', placeholder: 'ID,...', description: 'accounts whose callers may assume it (default: any)' },
    'external-id': { type: 'string', placeholder: 'ID', description: 'the sts:ExternalId the trust policy requires' },
  },
  schema: z.object({
    account: AccountId,
    name: z.string({ error: 'needs --name N' }).regex(/^[\w+=,.@-]{1,64}$/, { error: 'a role name is 1-64 of [A-Za-z0-9_+=,.@-]' }),
    trust: z
      .string()
      .transform((s) => s.split(',').map((x) => x.trim()))
      .pipe(z.array(AccountId))
      .optional(),
    'external-id': z.string().optional(),
    json: z.boolean(),
    positionals: z.array(z.string()).max(0, { error: 'this command takes no arguments' }),
  }),
  async run(opts, io: Io) {
    const r = await callLab((lab) =>
      lab.createRole({
        accountId: opts.account,
        roleName: opts.name,
        ...(opts.trust ? { trustedAccounts: opts.trust } : {}),
        ...(opts['external-id'] !== undefined ? { externalId: opts['external-id'] } : {}),
      }),
    );
    if (io.json) printJson(io, r);
    else io.out(`created ${r.roleArn}`);
    return ExitCode.Ok;
  },
});

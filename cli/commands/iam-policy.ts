/** `secrets-dr iam-policy --role worker|receiver|operator`: the least-privilege policy of a role, from domain/iam.ts's table. */
import { z } from 'zod';
import { ExitCode } from '../../domain/errors.js';
import { IAM_ROLES, IAM_TABLE, policyFor, trustPolicyFor } from '../../domain/iam.js';
import { ErrorType, OperatorError } from '../../domain/errors.js';
import { defineCommand, PLAN_OPTION } from '../command.js';
import { loadPlanFile } from '../plan-file.js';
import { printJson } from '../output.js';

/** AWS's limit for a customer managed policy document (characters, whitespace excluded). */
const MANAGED_POLICY_LIMIT = 6144;

export const iamPolicyCommand = defineCommand({
  words: ['iam-policy'],
  summary: 'print the least-privilege IAM policy of a role (worker, receiver, operator, recovery + its trust policy) for the plan',
  examples: [
    'secrets-dr iam-policy --role worker --account-id 123456789012',
    'secrets-dr iam-policy --role operator --explain',
    'secrets-dr iam-policy --role recovery --account-id 210987654321 --worker-role-arn arn:aws:iam::123456789012:role/secrets-dr-worker',
  ],
  options: {
    ...PLAN_OPTION,
    role: { type: 'string', description: 'whose policy: the worker, the receiver or a human operator' },
    'account-id': { type: 'string', placeholder: 'ID', description: 'the 12-digit account, to scope ARNs (default: any account, *)' },
    partition: { type: 'string', description: 'the AWS partition of the ARNs (default aws)' },
    explain: { type: 'boolean', default: false, description: 'also print, on stderr, why each action is needed' },
    'worker-role-arn': {
      type: 'string',
      placeholder: 'ARN',
      description: "--role recovery: the worker's role, trusted by the recovery role (default: the plan's primaryAccountId root)",
    },
  },
  schema: z.object({
    plan: z.string(),
    json: z.boolean(),
    role: z.enum(IAM_ROLES, { error: `--role: expected one of ${IAM_ROLES.join(', ')}` }),
    'account-id': z
      .string()
      .regex(/^\d{12}$/, { error: 'expected a 12-digit AWS account id' })
      .optional(),
    partition: z.enum(['aws', 'aws-cn', 'aws-us-gov']).optional(),
    explain: z.boolean(),
    'worker-role-arn': z
      .string()
      .regex(/^arn:aws[a-z-]*:iam::\d{12}:role\//, { error: 'expected an IAM role ARN' })
      .optional(),
    positionals: z.array(z.string()).max(0, { error: 'iam-policy takes no arguments' }),
  }),
  async run(opts, io) {
    const { plan } = loadPlanFile(opts.plan);
    const policy = policyFor(opts.role, plan, { accountId: opts['account-id'], partition: opts.partition });
    if (opts.role === 'recovery') {
      // The role secrets-dr assumes in a recovery account: its policy, and the trust policy that lets the worker in.
      const id = opts['account-id'];
      if (!id)
        throw new OperatorError(
          ErrorType.UsageError,
          `--role recovery needs --account-id: one of the plan's recoveryAccounts (${plan.recoveryAccounts.map((a) => a.accountId).join(', ') || 'none listed'})`,
        );
      const trust = trustPolicyFor(plan, id, { principalArn: opts['worker-role-arn'], partition: opts.partition });
      if ('problem' in trust) throw new OperatorError(ErrorType.UsageError, `--role recovery: ${trust.problem}`);
      if (io.json) {
        printJson(io, { role: opts.role, plan: plan.name, accountId: id, policy, trustPolicy: trust, why: IAM_TABLE.recovery });
        return ExitCode.Ok;
      }
      io.out(JSON.stringify({ policy, trustPolicy: trust }, null, 2));
      return ExitCode.Ok;
    }
    const size = JSON.stringify(policy).length;
    if (io.json) {
      printJson(io, { role: opts.role, plan: plan.name, policy, size, why: IAM_TABLE[opts.role] });
      return ExitCode.Ok;
    }
    if (opts.explain) {
      for (const g of IAM_TABLE[opts.role]) io.err(`# ${g.action.padEnd(40)} ${g.scopes.join(', ')}: ${g.why}`);
    }
    io.out(JSON.stringify(policy, null, 2));
    if (size > MANAGED_POLICY_LIMIT) {
      io.err(
        `note: ${size} characters is above the ${MANAGED_POLICY_LIMIT} limit of one managed policy; split the statements over two policies or use name prefixes instead of many exact names.`,
      );
    }
    return ExitCode.Ok;
  },
});

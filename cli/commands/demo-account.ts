/**
 * The demo's account stage, "the account is compromised": the plan gains a recovery account
 * (`recoveryAccounts`), `account setup` creates and associates the cross-account replicas there,
 * then the lab revokes every key of the primary account (a leaked admin key was found: the keys
 * were killed, the account is locked). The operator runs `failover --to-account`: the primary
 * refuses our credentials, so the replicas are promoted as they stand and the report says what
 * that means. Then the applications' read path in the recovery account is checked (each secret
 * read with a key of that account, compared with what the primary account served just before the
 * incident; never printed, and added to the demo's leak scan).
 * The stage restores the primary account at its end, so the demo can clean up.
 */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ExitCode } from '../../domain/errors.js';
import { policyFor } from '../../domain/iam.js';
import type { Plan } from '../../domain/plan.js';
import { workflowTaskQueue } from '../../domain/ids.js';
import { accountSetupWorkflowId } from '../../domain/account-dr.js';
import type { accountSetupWorkflow } from '../../workflows/account-setup.workflow.js';
import { printJson, type Io } from '../output.js';
import type { Connected } from '../temporal.js';
import { parsePlanText } from '../plan-file.js';
import { renderAccountReport, runAccountFailover } from './account.js';

const RECOVERY = '210987654321';
const PRIMARY_ACCOUNT = '123456789012';
const ROLE = `arn:aws:iam::${RECOVERY}:role/secrets-dr-recovery`;
const EXTERNAL_ID = 'payments-dr-demo';
const KEY = 'alias/payments-recovery';

interface DemoAccountContext {
  c: Connected;
  plan: Plan;
  labUrl: string;
  io: Io;
  say: (line: string) => void;
  /** The values the leak scan looks for; the stage adds what the applications read before the incident (rotated values too). */
  seeded: string[];
  /** The demo worker's access key: the lab binds the account plan's worker policy to it. */
  workerKey: string;
  planText: string;
}

export async function demoAccountStage(ctx: DemoAccountContext): Promise<{ code: ExitCode }> {
  const { c, labUrl, io, say } = ctx;
  const lab = async (path: string, body: unknown = {}) => {
    const res = await fetch(`${labUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    if (!res.ok) throw new Error(`lab ${path}: ${res.status} ${await res.text()}`);
  };
  const text = `${ctx.planText}primaryAccountId: "${PRIMARY_ACCOUNT}"\nrecoveryAccounts:\n  - { accountId: "${RECOVERY}", roleArn: "${ROLE}", externalId: ${EXTERNAL_ID}, kmsKeyId: ${KEY} }\n`;
  const { plan, problems } = parsePlanText(text);
  if (!plan) throw new Error(`the demo's account plan is invalid: ${JSON.stringify(problems)}`);

  say('');
  say(`[account] the plan gains a recovery account: recoveryAccounts: [{ accountId: "${RECOVERY}", roleArn: ${ROLE}, externalId, kmsKeyId: ${KEY} }]`);
  say(
    `[account] in ${RECOVERY}: the role secrets-dr assumes (trusting ${PRIMARY_ACCOUNT} with the ExternalId; secrets-dr iam-policy --role recovery), its KMS key`,
  );
  await lab('/_lab/accounts', { accountId: RECOVERY });
  await lab('/_lab/roles', {
    roleArn: ROLE,
    trustedAccounts: [PRIMARY_ACCOUNT],
    externalId: EXTERNAL_ID,
    policy: policyFor('recovery', plan, { accountId: RECOVERY }),
  });
  await lab('/_lab/kms/key-policy', {
    accountId: RECOVERY,
    region: plan.primaryRegion,
    keyId: KEY,
    policy: {
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${RECOVERY}:root` }, Action: 'kms:*', Resource: '*' },
        { Effect: 'Allow', Principal: { AWS: PRIMARY_ACCOUNT }, Action: ['kms:Encrypt', 'kms:GenerateDataKey'], Resource: '*' },
      ],
    },
  });
  // The worker's generated policy for this plan (sts:AssumeRole of the role, the cross-account actions), as `iam-policy --role worker` prints it.
  await lab('/_lab/iam/policy', { accessKeyId: ctx.workerKey, policy: policyFor('worker', plan) });

  say(`[account] secrets-dr account setup --account ${RECOVERY}   (CreateSecret(CrossAccountPrimaryARN) there, AssociateCrossAccountReplica here)`);
  const setup = await c.client.workflow.execute<typeof accountSetupWorkflow>('accountSetupWorkflow', {
    taskQueue: workflowTaskQueue(c.env.SECRETS_DR_TASK_QUEUE_PREFIX),
    workflowId: accountSetupWorkflowId(plan.name, RECOVERY),
    args: [{ plan, accountId: RECOVERY, taskQueuePrefix: c.env.SECRETS_DR_TASK_QUEUE_PREFIX, pollMs: 200 }],
  });
  renderAccountReport('account setup', setup, io);
  if (setup.outcome !== 'done') throw new Error(`account setup ended ${setup.outcome}`);

  // What the applications read in the primary account just before the incident (kept in memory, compared later, never printed).
  const appIn = (account: string) =>
    new SecretsManagerClient({
      region: plan.primaryRegion,
      endpoint: labUrl,
      credentials: { accessKeyId: `lab${account}`, secretAccessKey: 'x' },
      maxAttempts: 1,
    });
  const names = setup.outcomes.map((o) => o.name);
  const before = new Map<string, string | undefined>();
  const primaryApp = appIn(PRIMARY_ACCOUNT);
  for (const name of names) before.set(name, (await primaryApp.send(new GetSecretValueCommand({ SecretId: name }))).SecretString);
  primaryApp.destroy();
  // The leak scan at the end looks for these too (rotated values included).
  for (const v of before.values()) if (v !== undefined && !ctx.seeded.includes(v)) ctx.seeded.push(v);

  say('');
  say(`[account] a leaked admin key of ${PRIMARY_ACCOUNT} was found: every key of the account is revoked   (secrets-dr lab account revoke ${PRIMARY_ACCOUNT})`);
  await lab(`/_lab/accounts/${PRIMARY_ACCOUNT}/revoke`);
  try {
    // The primary now refuses our keys: AccessDenied looks the same as a missing permission, so the operator says the account is lost.
    say(`[account] secrets-dr failover --to-account ${RECOVERY} --mode unplanned --reason "primary account compromised" --yes --approve --wait`);
    const code = await runAccountFailover(
      plan,
      { accountId: RECOVERY, mode: 'unplanned', reason: 'primary account compromised', approve: true, wait: true, dryRun: false, yes: true },
      io,
    );
    if (code !== ExitCode.Ok) throw new Error(`account failover exited ${code}`);

    // The applications' read path in the recovery account: their own credentials there, the same names.
    const app = appIn(RECOVERY);
    let served = 0;
    for (const name of names) {
      const v = (await app.send(new GetSecretValueCommand({ SecretId: name }))).SecretString;
      if (v !== undefined && v === before.get(name)) served++;
    }
    app.destroy();
    const line = `[account] read path in ${RECOVERY}: ${served}/${names.length} secrets served by GetSecretValue under the same names, each the value the primary account served before the incident (compared, not printed)`;
    if (io.json) printJson(io, { accountReadPath: { account: RECOVERY, served, of: names.length } });
    say(line);
    if (served !== names.length) throw new Error(`the recovery account served ${served} of ${names.length} secrets`);
    return { code };
  } finally {
    await lab(`/_lab/accounts/${PRIMARY_ACCOUNT}/restore`).catch(() => undefined);
    say(
      `[account] (the lab restores ${PRIMARY_ACCOUNT} so the demo can clean up; in a real incident it stays locked until it is rebuilt: then secrets-dr account failback)`,
    );
  }
}

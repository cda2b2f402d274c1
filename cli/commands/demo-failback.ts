/**
 * The demo's failback stage: while Tokyo was dark, rotation ran in Osaka (RotateSecret in Osaka
 * with Osaka's rotation function, whose four steps run after the call returns, as on AWS), so
 * Osaka holds a newer value than Tokyo. The on-call
 * engineer runs `secrets-dr failback --yes --approve --wait`: the rotated value is copied back into Tokyo,
 * replication is re-established from Tokyo, and both Regions are shown to hold the same AWSCURRENT
 * by HMAC (computed inside activities) — values are never printed.
 */
import { DescribeSecretCommand, RotateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { FailbackReport } from '../../domain/failback.js';
import type { Plan } from '../../domain/plan.js';
import { printJson, type Io } from '../output.js';
import type { Connected } from '../temporal.js';
import { renderFailbackReport, startFailback } from './failback.js';

interface DemoFailbackContext {
  c: Connected;
  plan: Plan;
  io: Io;
  say: (line: string) => void;
  /** The secret rotated in the DR Region during the outage. */
  rotated?: string;
}

/** Rotation is asynchronous: wait until the function's finishSecret step made the new version AWSCURRENT. */
async function awaitRotation(sm: SecretsManagerClient, secretId: string, versionId: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const d = await sm.send(new DescribeSecretCommand({ SecretId: secretId }));
    if (d.VersionIdsToStages?.[versionId]?.includes('AWSCURRENT')) return;
    if (Date.now() > deadline) throw new Error(`the rotation of ${secretId} (version ${versionId}) did not finish within ${timeoutMs / 1000} s`);
    await new Promise((res) => setTimeout(res, 100));
  }
}

export async function demoFailbackStage({ c, plan, io, say, rotated = 'prod/App/Mysql' }: DemoFailbackContext): Promise<FailbackReport> {
  const from = plan.primaryRegion;
  const to = plan.drRegions[0]!.region;
  say('');
  const lambda = plan.rotation[to];
  if (!lambda) throw new Error(`the demo plan names no rotation function for ${to} (rotation.${to})`);
  say(`[failback] during the outage, rotation ran in ${to}: RotateSecret ${rotated} with ${lambda} (${from} still holds the old value)`);
  const sm = new SecretsManagerClient({ region: to });
  try {
    const r = await sm.send(new RotateSecretCommand({ SecretId: rotated, RotationLambdaARN: lambda, RotationRules: { AutomaticallyAfterDays: 30 } }));
    await awaitRotation(sm, rotated, r.VersionId!);
  } finally {
    sm.destroy();
  }
  say(
    `[failback] ${from} is healthy again: secrets-dr failback --yes --approve --wait   (reconcile per secret from the failover's lineage, copy newer ${to} values back, re-replicate from ${from})`,
  );
  say('');
  const handle = await startFailback(c, { plan, skipApproval: true, taskQueuePrefix: c.env.SECRETS_DR_TASK_QUEUE_PREFIX });
  const report = await handle.result();
  if (io.json) printJson(io, { failback: report });
  else renderFailbackReport(report, io);
  say('');
  const item = report.items.find((i) => i.name === rotated);
  if (item?.status === 'verified' && item.hmacMatch && item.copiedBack) {
    say(
      `[failback] ${rotated}: the value rotated in ${to} during the outage was kept — AWSCURRENT in ${from} and in ${to} have the same HMAC, equal to the rotated value's, and ${to} is a replica of ${from} again (InSync).`,
    );
  } else {
    say(
      `[failback] ${rotated}: ${item ? `${item.change}, ${item.resolution}, ${item.status}${item.reason ? ` — ${item.reason}` : ''}` : 'not part of the failback'}`,
    );
  }
  return report;
}

/**
 * Least privilege, proven: every action of the generated worker policy is needed, and the worker
 * works with nothing more.
 *
 * Running the whole integration suite once per action (~45 actions) would take hours, so:
 * 1. Record. One DR story runs on the real workflows and workers (dev server + lab), in steps:
 *    setup (with a conflict: backup-then-overwrite, a customer managed key, rotation), planned
 *    failover (fence, rotation re-homed), failback (copy-back, re-replication, unfence), restore of
 *    the setup backup, the same restore over an original changed since (key, description, rotation,
 *    value), a drill, events install + uninstall. Its workers sign with an access key of
 *    their own, bound in the lab to `policyFor('worker', plan)` and nothing else; every step must
 *    succeed. The lab records which actions that key was allowed; the test notes the first step
 *    that used each action.
 * 2. Remove each action. For every action of the policy: a fresh key bound to the policy without
 *    that action, fresh secrets, and the story replayed up to the step that first used it. The
 *    story must then fail (a workflow failure, or a report with a failed/partial outcome) with
 *    AWS's AccessDeniedException naming that action: a missing permission is never swallowed.
 *    Runs go four at a time on their own keys, task queues and names.
 *    When a step's own check fails without an exception (a best-effort call such as PutEvents or
 *    an unfence whose AccessDenied the workflow tolerates), the failure text carries the lab's
 *    AccessDenied messages for the run's key: the step failed on what the refusal left undone.
 * 3. An action of the policy that no step used fails the test: the policy is not wider than the
 *    story needs. (Add a step that needs it, or remove it from IAM_TABLE in domain/iam.ts.)
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateSecretCommand, DescribeSecretCommand, PutSecretValueCommand, RotateSecretCommand, UpdateSecretCommand } from '@aws-sdk/client-secrets-manager';
import { CreateApiDestinationCommand, CreateConnectionCommand, EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { NativeConnection } from '@temporalio/worker';
import { policyFor, type PolicyDocument } from '../../domain/iam.js';
import { eventsInstallWorkflowId, failbackWorkflowId, failoverWorkflowId, fenceWorkflowId, setupWorkflowId, workflowTaskQueue } from '../../domain/ids.js';
import type { Plan } from '../../domain/plan.js';
import type { SetupReport } from '../../domain/replication.js';
import type { FailoverReport } from '../../domain/failover.js';
import type { FailbackReport } from '../../domain/failback.js';
import { eventsInstallNames, type EventsInstallReport } from '../../domain/events-install.js';
import { FENCE_TAG } from '../../domain/status.js';
import type { RestoreResult } from '../../domain/backup.js';
import { startDrill } from '../../cli/commands/drill.js';
import { fingerprintOf } from '../../cli/commands/events.js';
import { createRegionClients } from '../../worker/aws-clients.js';
import { startWorkers, type RunningWorkers } from '../../worker/worker.js';
import { LAB_ONLY, onAws, startHarness, testWorkflowBundle, type Harness } from '../support/integration.js';
import { LAB_ACCOUNT } from '../support/worker-iam.js';

let h: Harness;
let connection: NativeConnection;
const API_KEY = `iam-actions-${randomBytes(12).toString('hex')}`;
const rotateArn = (region: string) => `arn:aws:lambda:${region}:${LAB_ACCOUNT}:function:rotate-iam`;
const EVENTS_ROLE = `arn:aws:iam::${LAB_ACCOUNT}:role/secrets-dr-events`;

beforeAll(async () => {
  process.env.SECRETS_DR_RECEIVER_API_KEY = API_KEY; // the in-process workers put it into the API-key connection
  h = await startHarness('iam-actions');
  connection = await NativeConnection.connect({ address: (await import('vitest')).inject('temporalAddress') });
  await h.lab?.ensureFunctions([rotateArn(h.primaryRegion), rotateArn(h.drRegion)]);
});
afterAll(async () => {
  await connection?.close();
  await h?.close();
});

/** One run of the story: its plan, secrets, workers and access key. */
interface Run {
  key: string;
  names: string;
  plan: Plan;
  prefix: string;
  workers: RunningWorkers;
  backup?: string;
}

/** Fresh secrets for a run: a rotating secret under a customer managed key, a plain one, and a DR-side conflict. */
async function prepare(tag: string, key: string, policy: (plan: Plan) => PolicyDocument): Promise<Run> {
  const names = `${h.names}${tag}/`;
  const base = h.plan(
    `failover:\n  requireApproval: false\nrotation:\n  ${h.primaryRegion}: ${rotateArn(h.primaryRegion)}\n  ${h.drRegion}: ${rotateArn(h.drRegion)}\ndrills:\n  canaries: 1\n  rtoTarget: 60s\n`,
  );
  const plan: Plan = {
    ...base,
    name: `${base.name}-${tag}`,
    drRegions: [{ ...base.drRegions[0]!, kmsKeyId: 'alias/secrets-dr-iam' }],
    secrets: { include: [{ prefix: names }], exclude: [] },
  };
  const sm = h.sm(h.primaryRegion);
  await sm.send(
    new CreateSecretCommand({
      Name: `${names}db`,
      SecretString: `db-${randomBytes(8).toString('hex')}`,
      KmsKeyId: `arn:aws:kms:${h.primaryRegion}:${LAB_ACCOUNT}:key/iam-test`,
    }),
  );
  await sm.send(
    new RotateSecretCommand({
      SecretId: `${names}db`,
      RotationLambdaARN: rotateArn(h.primaryRegion),
      RotationRules: { AutomaticallyAfterDays: 30 },
      RotateImmediately: false,
    }),
  );
  await sm.send(new CreateSecretCommand({ Name: `${names}api`, SecretString: `api-${randomBytes(8).toString('hex')}` }));
  await h.sm(h.drRegion).send(new CreateSecretCommand({ Name: `${names}api`, SecretString: `stale-${randomBytes(8).toString('hex')}` }));
  await h.lab!.call('POST', 'iam/policy', { accessKeyId: key, policy: policy(plan) });
  const prefix = `${h.prefix}-${tag}`;
  const workers = await startWorkers({
    connection,
    namespace: 'default',
    regions: [h.primaryRegion, h.drRegion],
    taskQueuePrefix: prefix,
    awsTimeoutMs: 5_000,
    workflowBundle: await testWorkflowBundle(),
    clientsFor: (region) => createRegionClients(region, { requestTimeoutMs: 5_000, credentials: { accessKeyId: key, secretAccessKey: 'x' } }),
  });
  // Both Regions' write leases held before the story: a step's cross-Region write is not refused while they are taken.
  await workers.ready();
  return { key, names, plan, prefix, workers };
}

const execute = <T>(r: Run, type: string, workflowId: string, input: Record<string, unknown>) =>
  h.client.workflow.execute(type, {
    taskQueue: workflowTaskQueue(r.prefix),
    workflowId,
    args: [{ plan: r.plan, taskQueuePrefix: r.prefix, ...input }],
    workflowExecutionTimeout: '3m',
  }) as Promise<T>;

/** Secrets of the run in a Region that still carry the fence tag (read with the test's unrestricted key). */
async function fencedIn(r: Run, region: string): Promise<string[]> {
  const out: string[] = [];
  for (const leaf of ['db', 'api']) {
    const d = await h.sm(region).send(new DescribeSecretCommand({ SecretId: `${r.names}${leaf}` }));
    if (d.Tags?.some((t) => t.Key === FENCE_TAG)) out.push(`${region}:${d.Name}`);
  }
  return out;
}

/** The events secrets-dr published for the run's plan (the lab's event log). */
async function eventsOf(r: Run): Promise<string[]> {
  const all = (await h.lab!.events({ source: 'secrets-dr' })) as Array<{ 'detail-type'?: string; detail?: { plan?: string } }>;
  return all.filter((e) => e.detail?.plan === r.plan.name).map((e) => e['detail-type'] ?? '?');
}

/** A step returns what went wrong ('' when it did what it should). */
interface Step {
  name: string;
  run(r: Run): Promise<string>;
}
const json = (v: unknown) => JSON.stringify(v);

const STEPS: Step[] = [
  {
    name: 'setup',
    async run(r) {
      const report = await execute<SetupReport>(r, 'replicateWorkflow', setupWorkflowId(r.plan.name), {});
      r.backup = report.outcomes.find((o) => o.backup)?.backup;
      if (!(report.outcomes.length === 2 && report.outcomes.every((o) => o.state === 'InSync') && r.backup)) return json(report);
      const events = await eventsOf(r);
      return events.includes('Replication Completed') ? '' : `no "Replication Completed" event published (events: ${json(events)})`;
    },
  },
  {
    name: 'failover (planned, fenced, rotation re-homed)',
    async run(r) {
      const report = await execute<FailoverReport>(r, 'failoverWorkflow', failoverWorkflowId(r.plan.name), {
        to: h.drRegion,
        mode: 'planned',
        skipApproval: true,
        dryRun: false,
        fenceRetryInitialMs: 300,
      });
      const fence = await h.client.workflow
        .getHandle(fenceWorkflowId(r.plan.name, h.primaryRegion))
        .result()
        .then(json, (e: unknown) => (/not found/i.test(String(e)) ? '' : failureText(e)));
      if (report.outcome !== 'done' || report.rotation?.failed || fence) return `${json(report)} ${fence}`;
      const stillFenced = await fencedIn(r, h.drRegion);
      return stillFenced.length ? `promoted secrets still carry the fence tag: ${stillFenced.join(', ')}` : '';
    },
  },
  {
    name: 'failback',
    async run(r) {
      const report = await execute<FailbackReport>(r, 'failbackWorkflow', failbackWorkflowId(r.plan.name), { skipApproval: true });
      if (report.outcome !== 'done') return json(report);
      const stillFenced = await fencedIn(r, h.primaryRegion);
      return stillFenced.length ? `failback left the fence on: ${stillFenced.join(', ')}` : '';
    },
  },
  {
    name: 'restore the setup backup',
    async run(r) {
      const result = await execute<RestoreResult>(r, 'restoreBackupWorkflow', `${r.plan.name}/iam-restore`, { backup: r.backup });
      return result.attention ? json(result) : '';
    },
  },
  {
    name: 'restore over an original changed since (key, description, rotation, value)',
    async run(r) {
      // The DR Region's `api` (restored just before) is changed with the test's key; restoring the same
      // backup again must undo each change: UpdateSecret (key, description), CancelRotateSecret (the
      // backup had no rotation), UpdateSecretVersionStage (AWSPREVIOUS, which the backup does not hold).
      const sm = h.sm(h.drRegion);
      const id = `${r.names}api`;
      await sm.send(
        new UpdateSecretCommand({
          SecretId: id,
          Description: 'changed after the backup',
          KmsKeyId: `arn:aws:kms:${h.drRegion}:${LAB_ACCOUNT}:key/iam-changed`,
        }),
      );
      await sm.send(
        new RotateSecretCommand({
          SecretId: id,
          RotationLambdaARN: rotateArn(h.drRegion),
          RotationRules: { AutomaticallyAfterDays: 30 },
          RotateImmediately: false,
        }),
      );
      await sm.send(new PutSecretValueCommand({ SecretId: id, SecretString: `changed-${randomBytes(8).toString('hex')}` }));
      const result = await execute<RestoreResult>(r, 'restoreBackupWorkflow', `${r.plan.name}/iam-restore-changed`, { backup: r.backup });
      return result.attention || result.alreadyRestored ? json(result) : '';
    },
  },
  {
    name: 'drill',
    async run(r) {
      const report = await (await startDrill({ client: h.client, prefix: r.prefix }, r.plan, 'test')).result();
      // Both read paths must serve the canaries' new version: a denied Parameter Store read is only a
      // warning in the report (the drill still passes), so the step checks the paths themselves.
      const stale = report.regions.flatMap((g) =>
        (['GetSecretValue', 'ParameterStore'] as const).filter((k) => !g.readPaths?.[k].current).map((k) => `${g.region} ${k}`),
      );
      return report.outcome === 'passed' && stale.length === 0 ? '' : `${stale.length ? `read paths not current: ${stale.join(', ')}; ` : ''}${json(report)}`;
    },
  },
  {
    name: 'events install + uninstall',
    async run(r) {
      // In the primary Region, an earlier install with another key and endpoint (made with the test's
      // key): this install updates both there, and creates them in the DR Region.
      const names = eventsInstallNames(r.plan.name);
      for (const region of [h.primaryRegion]) {
        const eb = new EventBridgeClient({ region });
        const c = await eb.send(
          new CreateConnectionCommand({
            Name: names.connection,
            AuthorizationType: 'API_KEY',
            AuthParameters: { ApiKeyAuthParameters: { ApiKeyName: 'x-api-key', ApiKeyValue: 'an-older-key' } },
            Description: 'an older install',
          }),
        );
        await eb.send(
          new CreateApiDestinationCommand({
            Name: names.destination,
            ConnectionArn: c.ConnectionArn!,
            InvocationEndpoint: 'https://old-receiver.example.com/events',
            HttpMethod: 'POST',
          }),
        );
        eb.destroy();
      }
      const input = { receiverUrl: 'https://receiver.example.com/events', apiKeyFingerprint: fingerprintOf(API_KEY), roleArn: EVENTS_ROLE };
      const install = await execute<EventsInstallReport>(r, 'eventsInstallWorkflow', `${eventsInstallWorkflowId(r.plan.name)}-install`, {
        action: 'install',
        ...input,
      });
      const uninstall = await execute<EventsInstallReport>(r, 'eventsInstallWorkflow', `${eventsInstallWorkflowId(r.plan.name)}-uninstall`, {
        action: 'uninstall',
        ...input,
      });
      return [install, uninstall].some((x) => x.regions.some((g) => g.error)) ? json([install, uninstall]) : '';
    },
  },
];

/** Everything an error says, causes and details included (Temporal wraps the activity's failure). */
function failureText(e: unknown): string {
  const parts: string[] = [];
  for (let c: unknown = e, depth = 0; c && depth < 8; c = (c as { cause?: unknown }).cause, depth++) {
    parts.push(String((c as Error).message ?? c));
    const details = (c as { details?: unknown }).details;
    if (details) parts.push(json(details));
  }
  return parts.join(' | ');
}

/** Runs the story's first `upTo + 1` steps; stops at the first that goes wrong. */
async function story(r: Run, upTo: number, afterStep?: (i: number) => Promise<void>): Promise<{ failedStep?: string; text: string }> {
  for (let i = 0; i <= upTo; i++) {
    let text: string;
    try {
      text = await STEPS[i]!.run(r);
    } catch (e) {
      text = failureText(e);
    }
    if (text) {
      // What the lab refused this key: a step may fail on what a swallowed AccessDenied left undone.
      const denials = Object.values(await recorded(r.key)).flatMap((e) => (e.lastDenial ? [e.lastDenial] : []));
      return { failedStep: STEPS[i]!.name, text: `${text} | lab refused: ${denials.join(' ; ') || 'nothing'}` };
    }
    await afterStep?.(i);
  }
  return { text: '' };
}

const recorded = async (key: string) =>
  (await h.lab!.call<Record<string, Record<string, { allowed: number; lastDenial?: string }>>>('GET', `iam/record?accessKeyId=${key}`))[key] ?? {};

function without(policy: PolicyDocument, action: string): PolicyDocument {
  return { ...policy, Statement: policy.Statement.map((s) => ({ ...s, Action: s.Action.filter((a) => a !== action) })).filter((s) => s.Action.length > 0) };
}

async function pool<T>(items: readonly T[], width: number, fn: (item: T) => Promise<void>): Promise<void> {
  const queue = [...items];
  await Promise.all(
    Array.from({ length: width }, async () => {
      for (let item = queue.shift(); item !== undefined; item = queue.shift()) await fn(item);
    }),
  );
}

describe.skipIf(onAws)(`the generated worker policy is exactly what the worker needs (${LAB_ONLY})`, () => {
  const firstUse = new Map<string, number>();
  let policyActions: string[] = [];

  it('the whole DR story passes under the generated worker policy alone; the lab records the actions each step used', async () => {
    const started = Date.now();
    const key = `iam-full-${randomBytes(4).toString('hex')}`;
    const run = await prepare('full', key, (plan) => policyFor('worker', plan, { accountId: LAB_ACCOUNT }));
    policyActions = [...new Set(policyFor('worker', run.plan, { accountId: LAB_ACCOUNT }).Statement.flatMap((s) => s.Action))].sort();
    try {
      const result = await story(run, STEPS.length - 1, async (i) => {
        for (const action of Object.keys(await recorded(key))) if (!firstUse.has(action)) firstUse.set(action, i);
      });
      expect(result, `step "${result.failedStep}" failed under the worker policy: ${result.text}`).toEqual({ text: '' });
    } finally {
      await run.workers.shutdown();
    }
    console.info(
      `iam-actions: the story took ${((Date.now() - started) / 1000).toFixed(1)} s; ${policyActions.length} actions in the worker policy; first used: ${[...firstUse].map(([a, i]) => `${a}@${STEPS[i]!.name}`).join(', ')}`,
    );
  }, 300_000);

  it('removing any one action makes the story fail with an AccessDenied naming it', async () => {
    const covered = policyActions.filter((a) => firstUse.has(a));
    expect(covered.length, "the recording run saw the policy's actions").toBeGreaterThan(10);
    const missed: string[] = [];
    const started = Date.now();
    await pool(covered, 4, async (action) => {
      const tag = `minus-${action.replace(/[^A-Za-z]/g, '')}`.slice(0, 40);
      const key = `iam-${tag}-${randomBytes(3).toString('hex')}`;
      const run = await prepare(tag, key, (plan) => without(policyFor('worker', plan, { accountId: LAB_ACCOUNT }), action));
      try {
        const result = await story(run, firstUse.get(action)!);
        if (!result.text.includes(`not authorized to perform: ${action} `)) {
          missed.push(
            `${action}: ${result.failedStep ? `step "${result.failedStep}" failed otherwise: ${result.text.slice(0, 400)}` : 'the story passed without it'}`,
          );
        }
      } finally {
        await run.workers.shutdown();
      }
    });
    console.info(`iam-actions: ${covered.length} remove-one-action runs took ${((Date.now() - started) / 1000).toFixed(1)} s`);
    expect(missed, missed.join('\n')).toEqual([]);
  }, 600_000);

  it('every action of the worker policy is used by some step (the policy is no wider than needed)', () => {
    expect(policyActions.length).toBeGreaterThan(0);
    const unused = policyActions.filter((a) => !firstUse.has(a));
    expect(unused, 'actions no step used: add a step that needs each, or remove it from IAM_TABLE (domain/iam.ts)').toEqual([]);
  });
});

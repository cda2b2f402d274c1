/**
 * Per-file harness of the integration tests: a Temporal client and in-process workers (unique
 * task queue prefix) against the dev server and the lab that global setup started, plus real SDK
 * clients for preparing and checking state. AWS is reached only through its public API, so the
 * same tests run against real AWS with SECRETS_DR_TEST_TARGET=aws (SECRETS_DR_TEST_REGIONS=
 * "primary,dr"); tests that need the lab's faults or counters skip there, saying why.
 * On the lab the workers run under the generated worker policy (worker-iam.ts); the test's own
 * clients (seeding, inspection) use the lab's unrestricted key.
 */
import { randomUUID } from 'node:crypto';
import { inject } from 'vitest';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, bundleWorkflowCode, type WorkflowBundle } from '@temporalio/worker';
import {
  SecretsManagerClient,
  ListSecretsCommand,
  DeleteSecretCommand,
  RemoveRegionsFromReplicationCommand,
  DescribeSecretCommand,
} from '@aws-sdk/client-secrets-manager';
import { LabClient } from '../../lab/client.js';
import { LAB_CREDENTIALS } from '../../lab/stack.js';
import { startWorkers, workflowsPath, type RunningWorkers, type StartWorkersOptions } from '../../worker/worker.js';
import { createRegionClients } from '../../worker/aws-clients.js';
import { createAccountClients } from '../../worker/account-clients.js';
import { WorkerPolicyBinder, workerAccessKey, workerCredentials } from './worker-iam.js';
import { parsePlanText } from '../../cli/plan-file.js';
import { installRuntime, logLevelFromEnv } from '../../worker/runtime.js';
import type { Plan } from '../../domain/plan.js';
import { dataConverter } from '../../worker/payload-codec.js';

export const onAws = process.env.SECRETS_DR_TEST_TARGET === 'aws';
export const LAB_ONLY = 'needs the lab (fault injection / call counters); skipped against real AWS';

const awsRegions = (process.env.SECRETS_DR_TEST_REGIONS ?? '').split(',').map((r) => r.trim());

/**
 * On the lab, each test file gets Regions of its own: test files run side by side, and the lab's
 * faults (a Region outage) and call counters are per Region. Files that start extra workers on
 * further Regions (monitor, recover, receiver, setup) keep those out of this table too.
 */
const LAB_REGIONS: Record<string, [string, string]> = {
  setup: ['ap-northeast-1', 'ap-northeast-3'],
  status: ['us-east-1', 'us-west-2'],
  failover: ['ap-southeast-1', 'ap-southeast-3'],
  'failover-messy': ['eu-west-3', 'eu-south-2'],
  failback: ['eu-south-1', 'eu-north-1'],
  drill: ['ap-northeast-2', 'ap-southeast-4'],
  monitor: ['me-central-1', 'il-central-1'],
  recover: ['ap-east-1', 'ap-south-2'],
  receiver: ['me-south-1', 'mx-central-1'],
  backups: ['eu-west-2', 'eu-west-3'],
  // No faults here: the receiver file injects none either.
  dashboard: ['me-south-1', 'mx-central-1'],
  // The chaos project's Regions: chaos runs on a lab of its own (its own global setup), never beside this one.
  metrics: ['af-south-1', 'ca-west-1'],
  confirm: ['sa-east-1', 'eu-central-2'],
  // Every Region is taken: these two share monitor's quiet Regions (a plan with no secrets). rotation-windows
  // injects no fault; read-paths injects faults only into its DR Region (ap-south-1), never into ap-southeast-2.
  'rotation-windows': ['ap-south-1', 'ap-southeast-2'],
  'read-paths': ['ap-southeast-2', 'ap-south-1'],
  // Shared with the receiver and dashboard files: none of the three injects a fault (read-paths does, into ap-south-1).
  'iam-actions': ['me-south-1', 'mx-central-1'],
  // test/chaos: Regions no other file uses.
  'chaos-kill': ['af-south-1', 'ca-west-1'],
  'chaos-faults': ['ap-southeast-5', 'ap-southeast-7'],
  // Scale-out: three worker processes on one Region; its per-second write counts must be its own.
  'scale-out': ['ap-east-2', 'ap-southeast-6'],
  // Account DR injects no Region fault (it revokes an account of its own): it shares the receiver's quiet pair.
  'account-dr': ['me-south-1', 'mx-central-1'],
  // Account drill and the monitor's account health: no Region fault (it revokes an account of its own): confirm's quiet pair.
  'account-drill': ['sa-east-1', 'eu-central-2'],
  'chaos-account': ['ca-central-1', 'eu-west-1'],
};

let bundle: Promise<WorkflowBundle> | undefined;
/** One workflow bundle per test file (bundling costs a second or two); files that start more workers reuse it. */
export function testWorkflowBundle(): Promise<WorkflowBundle> {
  bundle ??= bundleWorkflowCode({ workflowsPath: workflowsPath(), logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} } });
  return bundle;
}

export interface Harness {
  client: Client;
  /** Task queue prefix of this file's workers. */
  prefix: string;
  /** Secret name prefix of this file (everything it creates lives under it). */
  names: string;
  primaryRegion: string;
  drRegion: string;
  sm(region: string): SecretsManagerClient;
  /** The lab's admin API (undefined on real AWS). */
  lab?: LabClient;
  workers: RunningWorkers;
  /** On the lab: the worker policies bound to the workers' access key (worker-iam.ts). */
  workerPolicy?: WorkerPolicyBinder;
  /** The options that make further workers of this file sign with the same restricted key (empty on AWS). */
  workerClients: Pick<StartWorkersOptions, 'clientsFor' | 'accountClientsFor'>;
  plan(extra?: string): Plan;
  /** Binds the worker policy of a plan that reaches the workers other than through `client` (the CLI). */
  allowPlan(plan: Plan): Promise<void>;
  close(): Promise<void>;
}

export async function startHarness(name: string): Promise<Harness> {
  if (!onAws && !LAB_REGIONS[name]) throw new Error(`test file "${name}" has no Regions of its own: add it to LAB_REGIONS in test/support/integration.ts`);
  const [primaryRegion, drRegion] = onAws ? awsRegions : LAB_REGIONS[name]!;
  if (!primaryRegion || !drRegion) throw new Error('SECRETS_DR_TEST_REGIONS must name two Regions: "primary,dr"');
  const labUrl = inject('labUrl');
  if (!onAws) {
    // The real clients find the lab only through the SDK's standard endpoint variables.
    Object.assign(process.env, {
      AWS_ENDPOINT_URL_SECRETS_MANAGER: labUrl,
      AWS_ENDPOINT_URL_EVENTBRIDGE: labUrl,
      AWS_ENDPOINT_URL_SSM: labUrl,
      AWS_ENDPOINT_URL_STS: labUrl,
      ...LAB_CREDENTIALS,
    });
  }
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  const id = randomUUID().slice(0, 8);
  const prefix = `t-${name}-${id}`;
  const names = `secrets-dr-test/${name}-${id}/`;
  const address = inject('temporalAddress');
  installRuntime(logLevelFromEnv('WARN'));
  const nativeConnection = await NativeConnection.connect({ address });
  // On the lab the workers sign with a key of their own, bound to the generated worker policy (worker-iam.ts).
  const lab = onAws ? undefined : new LabClient(labUrl);
  const binder = lab ? new WorkerPolicyBinder(lab, workerAccessKey(name)) : undefined;
  const workerClients: Pick<StartWorkersOptions, 'clientsFor' | 'accountClientsFor'> = binder
    ? {
        clientsFor: (region: string) => createRegionClients(region, { requestTimeoutMs: 5_000, credentials: workerCredentials(name) }),
        // Account DR: the primary account with the same restricted key; recovery accounts through STS AssumeRole signed with it.
        accountClientsFor: createAccountClients({ requestTimeoutMs: 5_000, credentials: workerCredentials(name) }),
      }
    : {};
  const workers = await startWorkers({
    connection: nativeConnection,
    namespace: 'default',
    regions: [primaryRegion, drRegion],
    taskQueuePrefix: prefix,
    awsTimeoutMs: 5_000,
    workflowBundle: await testWorkflowBundle(),
    ...workerClients,
  });
  await workers.ready();
  const connection = await Connection.connect({ address });
  const client = new Client({ connection, namespace: 'default', dataConverter, ...(binder ? { interceptors: { workflow: [binder.interceptor()] } } : {}) });
  const clients = new Map<string, SecretsManagerClient>();
  const sm = (region: string) => {
    let c = clients.get(region);
    if (!c) {
      c = new SecretsManagerClient({ region, requestHandler: { requestTimeout: 10_000, throwOnRequestTimeout: true } });
      clients.set(region, c);
    }
    return c;
  };
  const harness: Harness = {
    client,
    prefix,
    names,
    primaryRegion,
    drRegion,
    sm,
    lab,
    workers,
    ...(binder ? { workerPolicy: binder } : {}),
    workerClients,
    plan(extra = '') {
      const { plan, problems } = parsePlanText(
        `name: ${name}-${id}\nprimaryRegion: ${primaryRegion}\ndrRegions: [{ region: ${drRegion} }]\nsecrets:\n  include: [{ prefix: "${names}" }]\n${extra}`,
      );
      if (!plan) throw new Error(`test plan invalid: ${JSON.stringify(problems)}`);
      return plan;
    },
    async allowPlan(plan: Plan) {
      await binder?.bindPlan(plan);
    },
    async close() {
      await workers.shutdown();
      await nativeConnection.close();
      await connection.close();
      if (onAws) await cleanUpAws(sm, names, [primaryRegion, drRegion]);
      for (const c of clients.values()) c.destroy();
    },
  };
  // Plans that reach the workers other than through `client` (the CLI reads them from a file): the tests
  // derive them from plan() by suffixing its name, so the file's plan is bound with its name as a prefix.
  if (binder) await binder.bindPlan({ ...harness.plan(), name: `${name}-${id}*` });
  return harness;
}

/**
 * Real AWS: delete everything under this file's prefix (replicas first, no recovery window). A removed
 * replica disappears tens of seconds after RemoveRegionsFromReplication answered, and deleting its
 * primary before that may strand it: wait for it (bounded) first.
 */
async function cleanUpAws(sm: (region: string) => SecretsManagerClient, names: string, regions: string[]): Promise<void> {
  for (const region of regions) {
    let token: string | undefined;
    do {
      const page = await sm(region).send(new ListSecretsCommand({ Filters: [{ Key: 'name', Values: [names] }], NextToken: token }));
      for (const s of page.SecretList ?? []) {
        if (s.PrimaryRegion && s.PrimaryRegion !== region) continue; // a replica: removed with its primary
        const d = await sm(region).send(new DescribeSecretCommand({ SecretId: s.ARN }));
        const replicas = (d.ReplicationStatus ?? []).map((r) => r.Region!).filter(Boolean);
        if (replicas.length) await sm(region).send(new RemoveRegionsFromReplicationCommand({ SecretId: s.ARN, RemoveReplicaRegions: replicas }));
        for (const r of replicas) {
          await eventually(
            `the replica of ${s.Name} in ${r} to disappear`,
            async () => {
              try {
                await sm(r).send(new DescribeSecretCommand({ SecretId: s.Name }));
                return undefined;
              } catch (err) {
                if ((err as Error).name === 'ResourceNotFoundException') return true;
                throw err;
              }
            },
            180_000,
            2_000,
          );
        }
        await sm(region).send(new DeleteSecretCommand({ SecretId: s.ARN, ForceDeleteWithoutRecovery: true }));
      }
      token = page.NextToken;
    } while (token);
  }
}

/** Polls until `check` returns a value (not undefined), or fails after `timeoutMs`. */
export async function eventually<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 20_000, intervalMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

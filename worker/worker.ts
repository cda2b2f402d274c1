/**
 * Composition root of the worker: one Temporal worker for workflows (`<prefix>`) and one per
 * Region (`<prefix>.<region>`) whose activities hold that Region's AWS clients, so every AWS call
 * runs in the Region it must (promotion must be called from the DR Region).
 */
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';
import { regionTaskQueue, workflowTaskQueue } from '../domain/ids.js';
import { createInventoryActivities } from '../activities/inventory.activities.js';
import { createLineageActivities } from '../activities/lineage.activities.js';
import { createEventActivities } from '../activities/events.activities.js';
import { createFailoverActivities } from '../activities/failover.activities.js';
import { createReplicationActivities } from '../activities/replication.activities.js';
import { createBackupActivities } from '../activities/backup.activities.js';
import { createMonitorActivities } from '../activities/monitor.activities.js';
import { createEventsInstallActivities } from '../activities/events-install.activities.js';
import { createFailbackActivities } from '../activities/failback.activities.js';
import { createDrillActivities } from '../activities/drill.activities.js';
import { createReadPathsActivities } from '../activities/read-paths.activities.js';
import type { AccountClientsOf, RegionClients } from '../activities/clients.js';
import { createAccountActivities } from '../activities/account.activities.js';
import { createAccountClients } from './account-clients.js';
import { envValue, type TemporalConnectionOptions } from './config.js';
import { setWritersPerRegion } from '../activities/write-governor.js';
import { createRegionClients } from './aws-clients.js';
import { prebuiltBundlePath } from './workflow-bundle.js';
import { installRuntime } from './runtime.js';
import { createMetricsRecorder, meterGovernors, metricsInterceptor } from './metrics.js';
import type { MetricMeter } from '@temporalio/common';

/** Path of the workflow bundle entry: the .ts source under vitest/dev, the built .js otherwise. */
export function workflowsPath(): string {
  for (const ext of ['.js', '.ts']) {
    const p = fileURLToPath(new URL(`../workflows/index${ext}`, import.meta.url));
    if (existsSync(p)) return p;
  }
  throw new Error('workflows/index not found next to worker/');
}

// One line per activity module: each Region's worker gets every activity bound to that Region's clients.
// `peers`: other Regions' clients, for the few activities that span two Regions (adopt, restore).
// `accounts`: clients of the primary and the recovery accounts in this Region (account DR).
function createRegionActivities(clients: RegionClients, peers?: (region: string) => RegionClients, accounts?: AccountClientsOf) {
  return {
    ...createInventoryActivities(clients),
    ...createLineageActivities(clients),
    ...createEventActivities(clients),
    ...createFailoverActivities(clients),
    ...createReplicationActivities(clients, peers),
    ...createBackupActivities(clients, peers),
    ...createMonitorActivities(clients),
    // Read when used, not at start: the demo sets the receiver's key after its in-process workers started.
    ...createEventsInstallActivities(clients, { apiKey: () => envValue('SECRETS_DR_RECEIVER_API_KEY') }),
    ...createFailbackActivities(clients, peers),
    ...createDrillActivities(clients, peers),
    ...createReadPathsActivities(clients),
    ...(accounts ? createAccountActivities(clients.region, accounts) : {}),
  };
}

export interface StartWorkersOptions {
  connection: NativeConnection;
  namespace: string;
  regions: readonly string[];
  taskQueuePrefix: string;
  /** Clients per Region; default: real SDK clients. */
  clientsFor?: (region: string) => RegionClients;
  /** Clients per (account, Region) for account DR; default: the standard chain for the primary, STS AssumeRole for recovery accounts. */
  accountClientsFor?: AccountClientsOf;
  awsTimeoutMs?: number;
  /** Worker processes serving each Region (SECRETS_DR_WRITERS_PER_REGION): the write governors take 1/N of the share. */
  writersPerRegion?: number;
  /** Prebuilt workflow bundle (tests reuse one across workers). */
  workflowBundle?: WorkerOptions['workflowBundle'];
  /** Extra worker options (tests tune these). */
  workerOptions?: Partial<WorkerOptions>;
  /** Record the domain metrics (domain/metrics.ts) on this meter: the runtime's, served by `--metrics-port`. */
  meter?: MetricMeter;
}

export interface RunningWorkers {
  workers: Worker[];
  /** Resolves when every worker has stopped. */
  done: Promise<void>;
  /** Where the workflow code came from: the caller's bundle, the prebuilt file, or bundled at start from source. */
  workflowCode: string;
  shutdown(): Promise<void>;
}

/** The workflow code: the caller's bundle, else the prebuilt one from the build, else bundled now from source. */
function workflowSource(given: WorkerOptions['workflowBundle']): Pick<WorkerOptions, 'workflowBundle' | 'workflowsPath'> {
  if (given) return { workflowBundle: given };
  const prebuilt = prebuiltBundlePath();
  return prebuilt ? { workflowBundle: { codePath: prebuilt } } : { workflowsPath: workflowsPath() };
}

export async function startWorkers(options: StartWorkersOptions): Promise<RunningWorkers> {
  const clientsFor = options.clientsFor ?? ((region: string) => createRegionClients(region, { requestTimeoutMs: options.awsTimeoutMs ?? 15_000 }));
  if (options.writersPerRegion !== undefined) setWritersPerRegion(options.writersPerRegion);
  const common = { connection: options.connection, namespace: options.namespace, ...options.workerOptions };
  const workers: Worker[] = [];
  const source = workflowSource(options.workflowBundle);
  workers.push(
    await Worker.create({
      ...common,
      taskQueue: workflowTaskQueue(options.taskQueuePrefix),
      ...source,
    }),
  );
  const recorder = options.meter ? createMetricsRecorder(options.meter) : undefined;
  if (options.meter) meterGovernors(options.meter);
  const accountClients = options.accountClientsFor ?? createAccountClients({ requestTimeoutMs: options.awsTimeoutMs ?? 15_000 });
  const peerCache = new Map<string, RegionClients>();
  const peerClients = (r: string) => peerCache.get(r) ?? peerCache.set(r, clientsFor(r)).get(r)!;
  for (const region of options.regions) {
    workers.push(
      await Worker.create({
        ...common,
        taskQueue: regionTaskQueue(region, options.taskQueuePrefix),
        activities: createRegionActivities(clientsFor(region), peerClients, accountClients),
        ...(recorder
          ? { interceptors: { ...common.interceptors, activity: [...(common.interceptors?.activity ?? []), metricsInterceptor(recorder, region)] } }
          : {}),
      }),
    );
  }
  const done = Promise.all(workers.map((w) => w.run())).then(() => undefined);
  return {
    workers,
    done,
    workflowCode: options.workflowBundle
      ? 'given bundle'
      : source.workflowBundle && 'codePath' in source.workflowBundle
        ? `prebuilt ${source.workflowBundle.codePath}`
        : `bundled from ${source.workflowsPath}`,
    async shutdown() {
      for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
      await done;
    },
  };
}

export async function connectWorker(opts: TemporalConnectionOptions): Promise<NativeConnection> {
  installRuntime(); // no-op when the caller installed it with its own level
  return NativeConnection.connect({ address: opts.address, tls: opts.tls, apiKey: opts.apiKey, metadata: opts.metadata });
}

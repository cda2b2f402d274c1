/**
 * Composition root of the worker: one Temporal worker for workflows (`<prefix>`) and one per
 * Region (`<prefix>.<region>`) whose activities hold that Region's AWS clients, so every AWS call
 * runs in the Region it must (promotion must be called from the DR Region). A Region's worker runs
 * only while this process holds the Region's write lease (region-lease.ts): start as many processes
 * as you like, one per Region writes at a time, the others stand by and serve workflows.
 */
import { bundleWorkflowCode, NativeConnection, Runtime, Worker, type WorkerOptions } from '@temporalio/worker';
import { fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';
import { regionTaskQueue, workflowTaskQueue, writeLeaseTaskQueue } from '../domain/ids.js';
import { addWriteGate, requireWriteGates } from '../activities/write-governor.js';
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
import {
  EVENTBRIDGE_OPERATIONS,
  SECRETS_MANAGER_OPERATIONS,
  SSM_OPERATIONS,
  type AccountClientsOf,
  type AccountRegionClients,
  type RegionClients,
} from '../activities/clients.js';
import { abortable, cancelledOutcome } from '../activities/cancellation.js';
import { createAccountActivities } from '../activities/account.activities.js';
import { createAccountDrillActivities } from '../activities/account-drill.activities.js';
import { createAccountClients } from './account-clients.js';
import { envValue, type TemporalConnectionOptions } from './config.js';
import { LEASE_STICKY_TIMEOUT, RegionLease } from './region-lease.js';
import { createRegionClients } from './aws-clients.js';
import { prebuiltBundlePath } from './workflow-bundle.js';
import { installRuntime } from './runtime.js';
import { createMetricsRecorder, meterGovernors, metricsInterceptor } from './metrics.js';
import type { MetricMeter } from '@temporalio/common';
import { dataConverter } from './payload-codec.js';
import { InFlightActivities } from './in-flight.js';

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
    ...(accounts ? createAccountDrillActivities(clients.region, accounts) : {}),
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
  /**
   * `lease` (default): a Region's activities run only while this process holds the Region's write lease, so
   * any number of processes share the Region's write quota share. `always`: they run at once, without a lease
   * (only when nothing else serves these Regions on this task queue prefix: tests with fake clients).
   */
  regionWorkers?: 'lease' | 'always';
  /** Log of the lease's changes (acquired, lost, renewal failures). */
  log?: (message: string) => void;
  /** Prebuilt workflow bundle (tests reuse one across workers). */
  workflowBundle?: WorkerOptions['workflowBundle'];
  /** Extra worker options (tests tune these). */
  workerOptions?: Partial<WorkerOptions>;
  /** Record the domain metrics (domain/metrics.ts) on this meter: the runtime's, served by `--metrics-port`. */
  meter?: MetricMeter;
}

export interface RunningWorkers {
  /** The workflow worker, the write leases' worker (under leases; each lease runs its Region's worker), or the Region workers with `regionWorkers: 'always'`. */
  workers: Worker[];
  /** Per Region served under a lease: whether this process holds it now. */
  leases: Map<string, RegionLease>;
  /** Resolves when every worker has stopped. */
  done: Promise<void>;
  /**
   * Resolves once this process holds every lease it serves (at once, with `regionWorkers: 'always'`): until then a
   * write into one of its Regions from another Region's activity is refused as WriteLeaseLost and retried.
   * Rejects after `timeoutMs` (another process may hold a lease: that is a standby, not an error, for a real worker).
   */
  ready(timeoutMs?: number): Promise<void>;
  /** Where the workflow code came from: the caller's bundle, the prebuilt file, or bundled at start from source. */
  workflowCode: string;
  /** The activities running now in this process's Region workers (what a shutdown waits for). */
  inFlight: InFlightActivities;
  /** What the shutdown waits for now: "the worker of eu-west-1", "the workflow workers", or "nothing". */
  shutdownStage(): string;
  shutdown(): Promise<void>;
}

/** The workflow code: the caller's bundle, else the prebuilt one from the build, else bundled now from source (once: two workers run it). */
async function workflowSource(
  given: WorkerOptions['workflowBundle'],
  bundler: WorkerOptions['bundlerOptions'],
): Promise<{ workflowBundle: NonNullable<WorkerOptions['workflowBundle']>; from: string }> {
  if (given) return { workflowBundle: given, from: 'given bundle' };
  const prebuilt = prebuiltBundlePath();
  if (prebuilt) return { workflowBundle: { codePath: prebuilt }, from: `prebuilt ${prebuilt}` };
  const path = workflowsPath();
  return { workflowBundle: await bundleWorkflowCode({ workflowsPath: path, logger: Runtime.instance().logger, ...bundler }), from: `bundled from ${path}` };
}

/** A Region's clients whose calls inside an activity end when the activity is cancelled (activities/cancellation.ts). */
function abortableRegion(c: RegionClients): RegionClients {
  return {
    ...c,
    secretsManager: abortable(c.secretsManager, SECRETS_MANAGER_OPERATIONS),
    eventBridge: abortable(c.eventBridge, EVENTBRIDGE_OPERATIONS),
    ...(c.ssm ? { ssm: abortable(c.ssm, SSM_OPERATIONS) } : {}),
  };
}

/** The same for an account's clients (the cross-account client reads the activity's signal itself). */
function abortableAccounts(of: AccountClientsOf): AccountClientsOf {
  const wrapped = new WeakMap<AccountRegionClients, AccountRegionClients>();
  return (region, account) => {
    const c = of(region, account);
    return wrapped.get(c) ?? wrapped.set(c, { ...c, secretsManager: abortable(c.secretsManager, SECRETS_MANAGER_OPERATIONS) }).get(c)!;
  };
}

export async function startWorkers(options: StartWorkersOptions): Promise<RunningWorkers> {
  const given = options.clientsFor ?? ((region: string) => createRegionClients(region, { requestTimeoutMs: options.awsTimeoutMs ?? 15_000 }));
  const clientsFor = (region: string) => abortableRegion(given(region));
  const common = { connection: options.connection, namespace: options.namespace, dataConverter, ...options.workerOptions };
  const workers: Worker[] = [];
  const source = await workflowSource(options.workflowBundle, options.workerOptions?.bundlerOptions);
  workers.push(await Worker.create({ ...common, taskQueue: workflowTaskQueue(options.taskQueuePrefix), workflowBundle: source.workflowBundle }));
  const recorder = options.meter ? createMetricsRecorder(options.meter) : undefined;
  const inFlight = new InFlightActivities();
  if (options.meter) meterGovernors(options.meter);
  const accountClients = abortableAccounts(options.accountClientsFor ?? createAccountClients({ requestTimeoutMs: options.awsTimeoutMs ?? 15_000 }));
  const peerCache = new Map<string, RegionClients>();
  const peerClients = (r: string) => peerCache.get(r) ?? peerCache.set(r, clientsFor(r)).get(r)!;
  const regionWorker = (region: string) =>
    Worker.create({
      ...common,
      taskQueue: regionTaskQueue(region, options.taskQueuePrefix),
      activities: createRegionActivities(clientsFor(region), peerClients, accountClients),
      interceptors: {
        ...common.interceptors,
        activity: [
          ...(common.interceptors?.activity ?? []),
          inFlight.interceptor(region),
          ...(recorder ? [metricsInterceptor(recorder, region)] : []),
          cancelledOutcome(() => leases.get(region)?.servedSignal),
        ],
      },
    });
  const leases = new Map<string, RegionLease>();
  // A write into a Region this process serves no gate of is refused (a cross-Region call would bypass that Region's governor).
  const releaseRule = requireWriteGates();
  const openGates: Array<() => void> = [];
  const regions = [...new Set(options.regions)].sort();
  if (options.regionWorkers === 'always') {
    for (const region of regions) {
      workers.push(await regionWorker(region));
      openGates.push(addWriteGate(region, () => undefined)); // the only writer of its Regions, by the option's contract
    }
  } else {
    // The leases' own queue: renewals never wait behind this process's busy workflow queue.
    workers.push(
      await Worker.create({
        ...common,
        taskQueue: writeLeaseTaskQueue(options.taskQueuePrefix),
        workflowBundle: source.workflowBundle,
        maxCachedWorkflows: 100,
        // A lease's task waits this long (not the default 10 s) for a process that has it cached but stopped polling,
        // then goes to any lease worker: a standby's renewal never waits out a stopped process (region-lease.ts).
        stickyQueueScheduleToStartTimeout: LEASE_STICKY_TIMEOUT,
      }),
    );
    // Sorted, each after the previous: identical processes never split their Regions (region-lease.ts).
    let after: RegionLease | undefined;
    for (const region of regions) {
      const lease: RegionLease = new RegionLease({
        connection: options.connection,
        namespace: options.namespace,
        region,
        serves: regions,
        taskQueuePrefix: options.taskQueuePrefix,
        ...(after ? { after } : {}),
        ...(options.log ? { log: options.log } : {}),
        createWorker: () => regionWorker(region),
      });
      leases.set(region, lease);
      after = lease;
    }
  }
  let stage = 'nothing (not shutting down)';
  const running = workers.map((w) => w.run());
  const done = Promise.all([...running, ...[...leases.values()].map((l) => l.done)]).then(() => {
    for (const remove of openGates) remove();
    releaseRule();
  });
  return {
    workers,
    leases,
    done,
    async ready(timeoutMs = 30_000) {
      const until = performance.now() + timeoutMs;
      while (![...leases.values()].every((l) => l.held)) {
        if (performance.now() > until) throw new Error(`write leases not held after ${timeoutMs} ms: ${[...leases.keys()].join(', ')}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    workflowCode: source.from,
    inFlight,
    shutdownStage: () => stage,
    async shutdown() {
      // Region workers first (each finishes its activities and releases its lease), then the workflows. All Region
      // workers stop taking tasks at once, so their grace times (then their activities' cancellation) run together.
      const regionsFirst = [...leases.entries()].reverse();
      for (const [, l] of regionsFirst) l.beginStop();
      for (const [region, l] of regionsFirst) {
        stage = `the worker of ${region} (its activities, then its write lease's release)`;
        await l.stop();
      }
      stage = 'the workflow workers';
      for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
      await done;
      stage = 'nothing';
    },
  };
}

export async function connectWorker(opts: TemporalConnectionOptions): Promise<NativeConnection> {
  installRuntime(); // no-op when the caller installed it with its own level
  return NativeConnection.connect({ address: opts.address, tls: opts.tls, apiKey: opts.apiKey, metadata: opts.metadata });
}

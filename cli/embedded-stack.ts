/**
 * The local stack inside this process: the lab, a Temporal dev server, workers for the plan's
 * Regions and a client, with one clean-up list. `secrets-dr demo` and the benchmarks start it the
 * same way (`lab up` starts the same pieces as separate processes instead: lab/stack.ts).
 */
import { startLab, type LabOptions, type RunningLab } from '../lab/server.js';
import { LAB_CREDENTIALS, stackEnv, startTemporalDevServer, type StackInfo, type TemporalServer } from '../lab/stack.js';
import { loadEnv, temporalOptions, type Env } from '../worker/config.js';
import { connectWorker, startWorkers, type StartWorkersOptions } from '../worker/worker.js';
import { withTemporal, type Connected } from './temporal.js';

interface EmbeddedStackOptions {
  /** Where the Temporal dev server keeps its files and logs. */
  home: string;
  /** The Regions the workers serve (the first is AWS_REGION); the lab serves these unless `lab.regions` says more. */
  regions: string[];
  /** The lab's options besides its port (a free one). */
  lab?: Omit<LabOptions, 'port'>;
  /** The workers' task queue prefix; default the environment's (SECRETS_DR_TASK_QUEUE_PREFIX). */
  taskQueuePrefix?: string;
  /** The workers' AWS clients per Region (the demo signs with the generated worker policy's key). */
  clientsFor?: StartWorkersOptions['clientsFor'];
  /** Clients per (account, Region) for account DR (the demo gives its worker key). */
  accountClientsFor?: StartWorkersOptions['accountClientsFor'];
}

interface EmbeddedStack {
  lab: RunningLab;
  temporal: TemporalServer;
  /** What `lab up` would record (stackEnv(info) gives the export lines). */
  info: StackInfo;
  /** The environment the stack set (process.env points the AWS SDK and Temporal at it), validated. */
  env: Env;
  client: Connected;
  /** Task queue prefix of the in-process workers. */
  prefix: string;
  /** Run in reverse order by close(); callers add their own (SDK clients, temp dirs, ...). */
  cleanups: Array<() => Promise<unknown>>;
  close(): Promise<void>;
}

export async function startEmbeddedStack(opts: EmbeddedStackOptions): Promise<EmbeddedStack> {
  const cleanups: Array<() => Promise<unknown>> = [];
  const close = async () => {
    for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
  };
  try {
    const lab = await startLab({ regions: opts.regions, ...opts.lab, port: 0 });
    cleanups.push(() => lab.close());
    const temporal = await startTemporalDevServer({ home: opts.home, detached: false });
    cleanups.push(() => temporal.stop());
    const info: StackInfo = {
      home: opts.home,
      startedAt: new Date().toISOString(),
      labUrl: lab.url,
      regions: opts.regions,
      temporalAddress: temporal.address,
      temporalUi: temporal.ui,
      processes: [],
    };
    Object.assign(process.env, stackEnv(info), LAB_CREDENTIALS);
    const env = loadEnv();
    const t = temporalOptions(env);
    const connection = await connectWorker(t);
    cleanups.push(() => connection.close());
    const prefix = opts.taskQueuePrefix ?? env.SECRETS_DR_TASK_QUEUE_PREFIX;
    const workers = await startWorkers({
      connection,
      namespace: t.namespace,
      regions: opts.regions,
      taskQueuePrefix: prefix,
      workerOptions: { debugMode: false },
      ...(opts.clientsFor ? { clientsFor: opts.clientsFor } : {}),
      ...(opts.accountClientsFor ? { accountClientsFor: opts.accountClientsFor } : {}),
    });
    cleanups.push(() => workers.shutdown());
    const client = await withTemporal({ env, keepOpen: true }, async (c) => c);
    cleanups.push(() => client.close());
    return { lab, temporal, info, env, client, prefix, cleanups, close };
  } catch (err) {
    await close();
    throw err;
  }
}

/**
 * Lab throughput benchmark: DescribeSecret through the real SDK client at high concurrency
 * against a lab with quotas and faults off. Target: >= 2,000 req/s on a 2-core machine.
 *
 *   npx tsc -p tsconfig.build.json && node dist/bench/lab-throughput.js [--seconds 5] [--concurrency 64]
 *
 * The lab runs in a worker thread (as it would in its own process under `lab up`). The load comes
 * from `--clients` worker threads (default 2), each with its own SDK client: one SDK client costs
 * several times more CPU per call than the lab does, so with a single client the benchmark measured
 * the client, not the lab. The lab thread's event-loop utilization over the run is measured too:
 * served req/s ÷ utilization is what the lab alone could serve on its thread.
 *
 * Prints `lab DescribeSecret throughput: N req/s (target >= 2000) ratio X.XX`, the lab thread's
 * utilization and capacity, and writes bench/results/lab-throughput.json.
 */
import { Agent } from 'node:http';
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { DescribeSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { startLab } from '../lab/server.js';
import { QUICK } from './results.js';

const TARGET = 2000;

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : NaN;
  return Number.isFinite(v) && v > 0 ? v : fallback;
}

const REGION = 'ap-northeast-1';

/** Worker thread: run the lab until told to stop. */
async function runLabThread(): Promise<void> {
  const lab = await startLab({ port: 0, regions: [REGION, 'ap-northeast-3'], quotas: false });
  parentPort!.postMessage({ url: lab.url });
  parentPort!.once('message', () => {
    void lab.close().then(() => parentPort!.postMessage({ closed: true }));
  });
}

interface ClientJob {
  role: 'client';
  url: string;
  ids: string[];
  seconds: number;
  concurrency: number;
  offset: number;
}

/** Worker thread: one SDK client driving `concurrency` loops of DescribeSecret until the deadline. */
async function runClientThread(job: ClientJob): Promise<void> {
  const client = new SecretsManagerClient({
    region: REGION,
    endpoint: job.url,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 1,
    requestHandler: { httpAgent: new Agent({ keepAlive: true, maxSockets: job.concurrency }) },
  });
  const ids = job.ids;
  // Warm-up: open the sockets and JIT the paths.
  await Promise.all(Array.from({ length: job.concurrency }, (_, i) => client.send(new DescribeSecretCommand({ SecretId: ids[i % ids.length] }))));
  parentPort!.postMessage({ ready: true });
  await new Promise((r) => parentPort!.once('message', r)); // start together
  let ok = 0;
  let failed = 0;
  const deadline = performance.now() + job.seconds * 1000;
  const loop = async (w: number): Promise<void> => {
    let i = w + job.offset;
    while (performance.now() < deadline) {
      try {
        await client.send(new DescribeSecretCommand({ SecretId: ids[i % ids.length] }));
        ok++;
      } catch {
        failed++;
      }
      i += job.concurrency;
    }
  };
  await Promise.all(Array.from({ length: job.concurrency }, (_, w) => loop(w)));
  client.destroy();
  parentPort!.postMessage({ ok, failed });
}

async function main(): Promise<void> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'; // the client threads inherit it
  const seconds = arg('seconds', 5);
  const concurrency = arg('concurrency', 32);
  const clients = arg('clients', 2);
  const secrets = arg('secrets', 1000);
  const region = REGION;
  const worker = new Worker(fileURLToPath(import.meta.url), { workerData: { role: 'lab' } });
  const url = await new Promise<string>((res, rej) => {
    worker.once('message', (m: { url: string }) => res(m.url));
    worker.once('error', rej);
  });
  const lab = {
    url,
    close: async (): Promise<void> => {
      const done = new Promise((r) => worker.once('message', r));
      worker.postMessage('close');
      await done;
      await worker.terminate();
    },
  };
  try {
    const seedRes = await fetch(`${url}/_lab/seed`, {
      method: 'POST',
      body: JSON.stringify({
        region,
        secrets: Array.from({ length: secrets }, (_, i) => ({ name: `bench/secret-${i}`, value: `v${i}`, tags: [{ Key: 'bench', Value: 'yes' }] })),
      }),
    });
    if (!seedRes.ok) throw new Error(`seed failed: ${await seedRes.text()}`);
    const seeded = (await seedRes.json()) as { arns: string[] };
    const ids = seeded.arns;
    const threads = Array.from(
      { length: clients },
      (_, c) =>
        new Worker(fileURLToPath(import.meta.url), {
          workerData: { role: 'client', url, ids, seconds, concurrency, offset: c * 7919 } satisfies ClientJob,
        }),
    );
    await Promise.all(
      threads.map(
        (t) =>
          new Promise((r, rej) => {
            t.once('message', r);
            t.once('error', rej);
          }),
      ),
    );
    const results = threads.map(
      (t) =>
        new Promise<{ ok: number; failed: number }>((r, rej) => {
          t.once('message', r);
          t.once('error', rej);
        }),
    );
    const elu0 = worker.performance.eventLoopUtilization();
    const started = performance.now();
    for (const t of threads) t.postMessage('go');
    const counts = await Promise.all(results);
    const elapsed = (performance.now() - started) / 1000;
    const labBusy = worker.performance.eventLoopUtilization(elu0).utilization;
    await Promise.all(threads.map((t) => t.terminate()));
    const ok = counts.reduce((a, c) => a + c.ok, 0);
    const failed = counts.reduce((a, c) => a + c.failed, 0);
    const rps = ok / elapsed;
    const ratio = rps / TARGET;
    const capacity = labBusy > 0 ? rps / labBusy : Infinity;
    console.log(`lab DescribeSecret throughput: ${Math.round(rps)} req/s (target >= ${TARGET}) ratio ${ratio.toFixed(2)}`);
    console.log(
      `lab thread busy ${(labBusy * 100).toFixed(0)} % of the run (${clients} client threads × ${concurrency} in flight): the lab alone would serve ≈ ${Math.round(capacity)} req/s on its thread`,
    );
    const out = resolve(dirname(fileURLToPath(import.meta.url)), `../../bench/results/${QUICK ? 'quick/' : ''}lab-throughput.json`);
    await mkdir(dirname(out), { recursive: true });
    await writeFile(
      out,
      `${JSON.stringify(
        {
          benchmark: 'lab-throughput',
          operation: 'DescribeSecret',
          requestsPerSecond: Math.round(rps),
          target: TARGET,
          ratio: Number(ratio.toFixed(3)),
          ok,
          failed,
          seconds: Number(elapsed.toFixed(3)),
          concurrency,
          clientThreads: clients,
          labInWorkerThread: true,
          labThreadUtilization: Number(labBusy.toFixed(3)),
          labCapacityPerSecond: Math.round(capacity),
          secrets,
          cpus: cpus().length,
          node: process.version,
          at: new Date().toISOString(),
        },
        null,
        2,
      )}\n`,
    );
    if (failed > 0) console.log(`(${failed} calls failed)`);
    // The lab must never be the bottleneck of a benchmark (issue 18): a pass/fail target, printed in --quick.
    if (rps < TARGET) {
      console.log(`!! the lab served ${Math.round(rps)} req/s, below the ${TARGET} req/s target`);
      if (!QUICK) process.exitCode = 1;
    }
  } finally {
    await lab.close();
  }
}

if (isMainThread) {
  main().catch((e: unknown) => {
    console.error(e);
    process.exitCode = 1;
  });
} else if ((workerData as { role?: string } | undefined)?.role === 'client') {
  void runClientThread(workerData as ClientJob);
} else {
  void runLabThread();
}

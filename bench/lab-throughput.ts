/**
 * Lab throughput benchmark: DescribeSecret through the real SDK client at high concurrency
 * against a lab with quotas and faults off. Target: >= 2,000 req/s on a 2-core machine.
 *
 *   npx tsc -p tsconfig.build.json && node dist/bench/lab-throughput.js [--seconds 5] [--concurrency 64]
 *
 * The lab runs in a worker thread (its own core, as it would in its own process under `lab up`);
 * the SDK client, which costs several times more CPU per call than the lab does, runs on the main thread.
 *
 * Prints `lab DescribeSecret throughput: N req/s (target >= 2000) ratio X.XX` and writes
 * bench/results/lab-throughput.json.
 */
import { Agent } from 'node:http';
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isMainThread, parentPort, Worker } from 'node:worker_threads';
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

async function main(): Promise<void> {
  const seconds = arg('seconds', 5);
  const concurrency = arg('concurrency', 32);
  const secrets = arg('secrets', 1000);
  const region = REGION;
  const worker = new Worker(fileURLToPath(import.meta.url));
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
    const client = new SecretsManagerClient({
      region,
      endpoint: lab.url,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      maxAttempts: 1,
      requestHandler: { httpAgent: new Agent({ keepAlive: true, maxSockets: concurrency }) },
    });
    const ids = seeded.arns;
    // Warm-up: open the sockets and JIT the paths.
    await Promise.all(Array.from({ length: concurrency }, (_, i) => client.send(new DescribeSecretCommand({ SecretId: ids[i % ids.length] }))));

    let ok = 0;
    let failed = 0;
    const started = performance.now();
    const deadline = started + seconds * 1000;
    const loop = async (w: number): Promise<void> => {
      let i = w;
      while (performance.now() < deadline) {
        try {
          await client.send(new DescribeSecretCommand({ SecretId: ids[i % ids.length] }));
          ok++;
        } catch {
          failed++;
        }
        i += concurrency;
      }
    };
    await Promise.all(Array.from({ length: concurrency }, (_, w) => loop(w)));
    const elapsed = (performance.now() - started) / 1000;
    const rps = ok / elapsed;
    const ratio = rps / TARGET;
    client.destroy();
    console.log(`lab DescribeSecret throughput: ${Math.round(rps)} req/s (target >= ${TARGET}) ratio ${ratio.toFixed(2)}`);
    const out = resolve(dirname(fileURLToPath(import.meta.url)), `../../bench/results/${QUICK ? 'quick/' : ''}lab-throughput.json`);
    await mkdir(dirname(out), { recursive: true });
    await writeFile(out, `${JSON.stringify({
      benchmark: 'lab-throughput',
      operation: 'DescribeSecret',
      requestsPerSecond: Math.round(rps),
      target: TARGET,
      ratio: Number(ratio.toFixed(3)),
      ok,
      failed,
      seconds: Number(elapsed.toFixed(3)),
      concurrency,
      labInWorkerThread: true,
      secrets,
      cpus: cpus().length,
      node: process.version,
      at: new Date().toISOString(),
    }, null, 2)}\n`);
    if (failed > 0) console.log(`(${failed} calls failed)`);
  } finally {
    await lab.close();
  }
}

if (isMainThread) {
  main().catch((e: unknown) => {
    console.error(e);
    process.exitCode = 1;
  });
} else {
  void runLabThread();
}

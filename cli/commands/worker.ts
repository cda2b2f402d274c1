/** `secrets-dr worker`: run the workflow worker and one activity worker per Region. */
import { writeFileSync } from 'node:fs';
import { z } from 'zod';
import { ExitCode } from '../../domain/errors.js';
import { RegionListText } from '../../domain/regions.js';
import { planRegions } from '../../domain/plan.js';
import { defineCommand } from '../command.js';
import { loadPlanFile } from '../plan-file.js';
import { loadEnv, temporalOptions } from '../../worker/config.js';
import { connectWorker, startWorkers } from '../../worker/worker.js';
import { installRuntime, logLevelFromEnv } from '../../worker/runtime.js';

export const workerCommand = defineCommand({
  words: ['worker'],
  summary: 'run a worker (workflows + per-Region activity task queues)',
  usage: 'secrets-dr worker [--regions r1,r2 | -f PLAN]',
  options: { regions: { type: 'string' }, plan: { type: 'string', short: 'f' } },
  schema: z.object({
    regions: RegionListText,
    plan: z.string().optional(),
    positionals: z.array(z.string()).max(0),
  }),
  async run(opts, io) {
    const env = loadEnv();
    const regions = opts.regions ?? env.SECRETS_DR_REGIONS ?? (opts.plan ? planRegions(loadPlanFile(opts.plan).plan) : undefined);
    if (!regions?.length) {
      io.err('error: say which Regions this worker serves: --regions r1,r2, SECRETS_DR_REGIONS, or -f PLAN');
      return ExitCode.BadInput;
    }
    installRuntime(logLevelFromEnv('INFO'));
    const t = temporalOptions(env);
    const connection = await connectWorker(t);
    const running = await startWorkers({
      connection,
      namespace: t.namespace,
      regions,
      taskQueuePrefix: env.SECRETS_DR_TASK_QUEUE_PREFIX,
      awsTimeoutMs: env.SECRETS_DR_AWS_TIMEOUT_MS,
      writersPerRegion: env.SECRETS_DR_WRITERS_PER_REGION,
    });
    if (env.SECRETS_DR_READY_FILE) writeFileSync(env.SECRETS_DR_READY_FILE, String(process.pid));
    io.err(`secrets-dr worker: ${t.address} namespace ${t.namespace}, queues ${env.SECRETS_DR_TASK_QUEUE_PREFIX} + ${regions.map((r) => `${env.SECRETS_DR_TASK_QUEUE_PREFIX}.${r}`).join(', ')}; workflows: ${running.workflowCode}`);
    const stop = () => {
      io.err('secrets-dr worker: shutting down (finishing running activities)');
      void running.shutdown();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    await running.done;
    await connection.close();
    return ExitCode.Ok;
  },
});

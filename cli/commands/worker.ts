/** `secrets-dr worker`: run the workflow worker and one activity worker per Region. */
import { writeFileSync } from 'node:fs';
import { Runtime } from '@temporalio/worker';
import { z } from 'zod';
import { ErrorType, ExitCode, OperatorError } from '../../domain/errors.js';
import { RegionListText } from '../../domain/regions.js';
import { regionTaskQueue, workflowTaskQueue, writeLeaseTaskQueue } from '../../domain/ids.js';
import { planRegions } from '../../domain/plan.js';
import { defineCommand } from '../command.js';
import { loadPlanFile } from '../plan-file.js';
import { loadEnv, temporalOptions } from '../../worker/config.js';
import { connectWorker, startWorkers } from '../../worker/worker.js';
import { installRuntime, logLevelFromEnv } from '../../worker/runtime.js';
import { stderrLog } from '../../worker/log.js';
import { activityGraceMs, BoundedShutdown } from '../../worker/shutdown.js';

export const workerCommand = defineCommand({
  words: ['worker'],
  summary: 'run a worker (workflows + per-Region activity task queues)',
  examples: [
    'secrets-dr worker -f secrets-dr.yaml',
    'secrets-dr worker --regions ap-northeast-1,ap-northeast-3 --metrics-port 9464',
    'SECRETS_DR_LOG_FORMAT=json TEMPORAL_PROFILE=prod secrets-dr worker -f secrets-dr.yaml',
  ],
  options: {
    regions: { type: 'string', description: "Regions this worker serves, comma-separated (else SECRETS_DR_REGIONS, else the plan's)", placeholder: 'r1,r2' },
    plan: { type: 'string', short: 'f', description: 'plan file whose Regions this worker serves', placeholder: 'PLAN' },
    'metrics-port': {
      type: 'string',
      description: 'serve Prometheus metrics (SDK + secrets_dr_*) on this port at /metrics (else SECRETS_DR_METRICS_PORT)',
      placeholder: 'N',
    },
  },
  schema: z.object({
    regions: RegionListText,
    plan: z.string().optional(),
    'metrics-port': z.coerce.number().int().min(1).max(65_535).optional(),
    positionals: z.array(z.string()).max(0),
  }),
  async run(opts) {
    const env = loadEnv();
    const regions = opts.regions ?? env.SECRETS_DR_REGIONS ?? (opts.plan ? planRegions(loadPlanFile(opts.plan).plan) : undefined);
    if (!regions?.length) {
      throw new OperatorError(ErrorType.UsageError, 'say which Regions this worker serves: --regions r1,r2, SECRETS_DR_REGIONS, or -f PLAN');
    }
    const t = temporalOptions(env);
    const metricsPort = opts['metrics-port'] ?? env.SECRETS_DR_METRICS_PORT;
    // The SDK's own signal handling would stop every worker at once (the lease renewals' worker too, while Region
    // workers still drain): this command orders the shutdown itself, from the first moment on.
    installRuntime({ level: logLevelFromEnv('INFO'), format: env.SECRETS_DR_LOG_FORMAT, metricsPort, shutdownSignals: [] });
    const log = stderrLog(env.SECRETS_DR_LOG_FORMAT);
    const shutdown = new BoundedShutdown(env.SECRETS_DR_SHUTDOWN_TIMEOUT_MS, log);
    process.on('SIGINT', shutdown.onSignal);
    process.on('SIGTERM', shutdown.onSignal);
    try {
      const connection = await connectWorker(t);
      const running = await startWorkers({
        connection,
        namespace: t.namespace,
        regions,
        taskQueuePrefix: env.SECRETS_DR_TASK_QUEUE_PREFIX,
        awsTimeoutMs: env.SECRETS_DR_AWS_TIMEOUT_MS,
        // Half the limit to finish, then running activities are cancelled (their AWS calls abort and their attempts
        // are reported, so Temporal retries them elsewhere at once) and the other half to wind down.
        workerOptions: { shutdownGraceTime: activityGraceMs(env.SECRETS_DR_SHUTDOWN_TIMEOUT_MS) },
        log: (message) => log('warn', `secrets-dr worker: ${message}`),
        ...(metricsPort ? { meter: Runtime.instance().metricMeter } : {}),
      });
      if (env.SECRETS_DR_WRITERS_PER_REGION)
        log(
          'warn',
          `secrets-dr worker: SECRETS_DR_WRITERS_PER_REGION=${env.SECRETS_DR_WRITERS_PER_REGION} is ignored and deprecated: worker processes share each Region's write quota share by themselves (one holds the Region's write lease at a time); unset it`,
        );
      if (env.SECRETS_DR_READY_FILE) writeFileSync(env.SECRETS_DR_READY_FILE, String(process.pid));
      const prefix = env.SECRETS_DR_TASK_QUEUE_PREFIX;
      const queues = [workflowTaskQueue(prefix), writeLeaseTaskQueue(prefix), ...regions.map((r) => regionTaskQueue(r, prefix))];
      log(
        'info',
        `secrets-dr worker: ${t.address} namespace ${t.namespace}${t.origin ? ` (${t.origin})` : ''}, queues ${queues.join(', ')}; workflows: ${running.workflowCode}${metricsPort ? `; metrics on :${metricsPort}/metrics` : ''}`,
        {
          address: t.address,
          namespace: t.namespace,
          queues,
          ...(metricsPort ? { metricsPort } : {}),
        },
      );
      shutdown.attach(running); // a signal that came during the start shuts down now
      await running.done;
      shutdown.dispose(); // drained: a signal now changes nothing
      await connection.close();
    } finally {
      shutdown.dispose();
      process.off('SIGINT', shutdown.onSignal);
      process.off('SIGTERM', shutdown.onSignal);
    }
    return ExitCode.Ok;
  },
});

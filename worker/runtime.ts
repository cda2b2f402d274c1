/**
 * The Temporal Core runtime of this process, installed once: its log level and format
 * (SECRETS_DR_LOG_LEVEL, SECRETS_DR_LOG_FORMAT=json) and, with a metrics port, its Prometheus
 * endpoint (`/metrics`), which also carries the domain metrics (worker/metrics.ts).
 */
import { appendFileSync } from 'node:fs';
import { DefaultLogger, Runtime, type LogLevel, type LogEntry } from '@temporalio/worker';
import { ErrorType, OperatorError } from '../domain/errors.js';
import { envValue } from './config.js';
import { GOVERNOR_WAIT_BUCKETS, Metric } from '../domain/metrics.js';
import { formatLog, logFormat, type LogFormat, type LogLevelName } from './log.js';

let installed: { metricsPort?: number } | undefined;

// Our workers are split on purpose (workflows on one queue, each Region's activities on its own),
// so these two notices describe the design, not a problem.
const EXPECTED = /^No (activities|workflows) registered, not polling/;

/** Level from SECRETS_DR_LOG_LEVEL (validated by the env schema: a wrong value is an error naming it), else the given default. */
export function logLevelFromEnv(fallback: LogLevel): LogLevel {
  return envValue('SECRETS_DR_LOG_LEVEL') ?? fallback;
}

interface RuntimeOptions {
  level?: LogLevel;
  format?: LogFormat;
  /** Serve Prometheus metrics on this port (all interfaces), under /metrics. */
  metricsPort?: number;
  /** Address to bind the metrics endpoint to (default 0.0.0.0: a scraper runs elsewhere). */
  metricsHost?: string;
  /** Write the SDK's and Core's log lines to this file instead of stderr (the demo keeps its story free of log lines that way). */
  logFile?: string;
  /**
   * Signals on which the SDK itself shuts every worker down at once (its default: SIGINT, SIGTERM, SIGQUIT, SIGUSR2).
   * `secrets-dr worker` passes [] and orders its own shutdown (Region workers first, then the workflows and leases).
   */
  shutdownSignals?: NodeJS.Signals[];
}

/** The runtime's log function: the SDK's and Core's lines in our format. */
function logFunction(format: LogFormat, logFile?: string): (entry: LogEntry) => void {
  return (entry) => {
    if (EXPECTED.test(entry.message)) return;
    const compact = compactActivityFailure(entry);
    const at = new Date(Number(entry.timestampNanos / 1_000_000n));
    const level = entry.level.toLowerCase() as LogLevelName;
    const line = `${formatLog(format, level, compact?.msg ?? entry.message, compact?.fields ?? entry.meta ?? {}, at)}\n`;
    if (logFile) appendFileSync(logFile, line);
    else process.stderr.write(line);
  };
}

/**
 * Installs the runtime (once). Only processes that run workers call this: an installed runtime
 * keeps the process alive, so short commands must not. Refuses a second install that asks for a
 * metrics endpoint the first one did not open (it would silently serve nothing).
 */
export function installRuntime(options: RuntimeOptions | LogLevel = {}): void {
  const o: RuntimeOptions = typeof options === 'string' ? { level: options } : options;
  if (installed) {
    if (o.metricsPort !== undefined && installed.metricsPort !== o.metricsPort) {
      throw new Error(`the Temporal runtime is already installed without metrics on port ${o.metricsPort}`);
    }
    return;
  }
  const level = o.level ?? logLevelFromEnv('WARN');
  const logger = new DefaultLogger(level, logFunction(o.format ?? logFormat(), o.logFile));
  const metrics =
    o.metricsPort === undefined
      ? undefined
      : {
          prometheus: {
            bindAddress: `${o.metricsHost ?? '0.0.0.0'}:${o.metricsPort}`,
            histogramBucketOverrides: { [Metric.governorWait]: GOVERNOR_WAIT_BUCKETS },
          },
        };
  try {
    Runtime.install({
      logger,
      telemetryOptions: { logging: { forward: {}, filter: { core: level, other: level } }, ...(metrics ? { metrics } : {}) },
      ...(o.shutdownSignals ? { shutdownSignals: o.shutdownSignals } : {}),
    });
  } catch (err) {
    if (!metrics) throw err;
    throw new OperatorError(
      ErrorType.ConfigInvalid,
      `metrics port ${o.metricsPort}: cannot serve metrics on ${metrics.prometheus.bindAddress} (${(err as Error).message.replace(/^Failed to start prometheus metrics exporter: /, '')}); choose a free port with --metrics-port or SECRETS_DR_METRICS_PORT`,
    );
  }
  installed = { metricsPort: o.metricsPort };
}

/**
 * An activity failing with one of our typed failures (a Region that does not answer, a refused
 * call) is an expected event during an outage: one line says it; the stack adds nothing.
 */
function compactActivityFailure(entry: LogEntry): { msg: string; fields: Record<string, unknown> } | undefined {
  if (entry.message !== 'Activity failed') return undefined;
  const meta = entry.meta as
    { error?: { name?: string; type?: string; message?: string }; activityType?: string; attempt?: number; workflowId?: string } | undefined;
  const err = meta?.error;
  if (!err || err.name !== 'ApplicationFailure' || !err.type) return undefined;
  return {
    msg: `activity ${meta?.activityType} failed (attempt ${meta?.attempt}, workflow ${meta?.workflowId}): ${err.type}: ${err.message}`,
    fields: { activityType: meta?.activityType, attempt: meta?.attempt, workflowId: meta?.workflowId, errorType: err.type },
  };
}

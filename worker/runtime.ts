/** The Temporal Core runtime of this process, installed once with the log level asked for. */
import { DefaultLogger, Runtime, type LogLevel, type LogEntry } from '@temporalio/worker';

let installed = false;

// Our workers are split on purpose (workflows on one queue, each Region's activities on its own),
// so these two notices describe the design, not a problem.
const EXPECTED = /^No (activities|workflows) registered, not polling/;

export function installRuntime(level: LogLevel = 'WARN'): void {
  if (installed) return;
  installed = true;
  const base = new DefaultLogger(level);
  const logger = new DefaultLogger(level, (entry: LogEntry) => {
    if (EXPECTED.test(entry.message)) return;
    base.log(entry.level, entry.message, entry.meta);
  });
  Runtime.install({ logger, telemetryOptions: { logging: { forward: {}, filter: { core: level, other: level } } } });
}

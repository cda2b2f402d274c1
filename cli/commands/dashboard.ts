/**
 * `secrets-dr dashboard [--port N] [-f PLAN] [--interval S]`: the incident room's read-only page
 * (dashboard/): Region health from the monitor, running operations with live progress, pending
 * approvals with the command that answers each, finished operations' per-secret outcomes, and the
 * drills' RTO/RPO trend with each drill's timeline. Served on 127.0.0.1 only, behind an access
 * token printed at start. `--export FILE` writes the same page once, as one static HTML file.
 */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import { ErrorType, ExitCode, OperatorError } from '../../domain/errors.js';
import { defineCommand, PLAN_OPTION } from '../command.js';
import { loadPlanFile } from '../plan-file.js';
import { printJson } from '../output.js';
import { withTemporal } from '../temporal.js';

const DEFAULT_DASHBOARD_PORT = 8788;

export const dashboardCommand = defineCommand({
  words: ['dashboard'],
  summary: 'read-only web page for the incident room (127.0.0.1 + access token); --export writes it as one HTML file',
  examples: ['secrets-dr dashboard -f secrets-dr.yaml', 'secrets-dr dashboard --port 9000 --interval 5', 'secrets-dr dashboard --export incident-report.html'],
  options: {
    ...PLAN_OPTION,
    port: { type: 'string', default: String(DEFAULT_DASHBOARD_PORT), description: 'port on 127.0.0.1 (0: any free port)', placeholder: 'N' },
    interval: { type: 'string', default: '2', description: 'how often the page refreshes, in seconds', placeholder: 'SECONDS' },
    export: { type: 'string', description: 'write the page once, as one static HTML file (data inlined, no script), and exit', placeholder: 'FILE' },
  },
  schema: z.object({
    plan: z.string(),
    json: z.boolean(),
    port: z
      .string()
      .regex(/^\d{1,5}$/, { error: 'expected a port number such as 8788 (0: any free port)' })
      .transform(Number)
      .pipe(z.number().max(65_535, { error: 'expected a port number up to 65535' })),
    interval: z
      .string()
      .regex(/^\d+(\.\d+)?$/, { error: 'expected seconds, such as 2' })
      .transform(Number)
      .pipe(
        z
          .number()
          .min(0.5, { error: 'expected at least 0.5 seconds (each refresh queries every running workflow)' })
          .max(3_600, { error: 'expected at most 3600 seconds' }),
      ),
    export: z.string().min(1).optional(),
    positionals: z.array(z.string()).max(0, { error: 'this command takes no arguments' }),
  }),
  async run(opts, io) {
    const { plan } = loadPlanFile(opts.plan);
    // Loaded here, not at the CLI's start: the page code (and @temporalio/workflow's query names) costs every other command nothing.
    const [{ createCollector }, { renderPage }, { startDashboardServer }] = await Promise.all([
      import('../../dashboard/collect.js'),
      import('../../dashboard/page.js'),
      import('../../dashboard/server.js'),
    ]);
    return withTemporal({}, async (c) => {
      const collect = createCollector({ client: c.client, plan, planFile: opts.plan });
      if (opts.export) {
        const path = resolve(opts.export);
        const state = await collect();
        writeFileSync(path, renderPage(state, { live: false }));
        if (io.json)
          printJson(io, {
            file: path,
            generatedAt: state.generatedAt,
            operations: state.operations.length,
            approvals: state.approvals.length,
            drills: state.drills.length,
          });
        else
          io.out(
            `dashboard of plan ${plan.name} written to ${path} (${state.operations.length} running operation(s), ${state.approvals.length} pending approval(s), ${state.drills.length} drill(s))`,
          );
        return ExitCode.Ok;
      }
      let server;
      try {
        server = await startDashboardServer({ collect, port: opts.port, intervalMs: opts.interval * 1_000 });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE')
          throw new OperatorError(ErrorType.UsageError, `--port ${opts.port}: the port is in use on 127.0.0.1; pass another with --port N (0: any free port)`);
        throw err;
      }
      if (io.json) printJson(io, { url: server.url, openUrl: server.openUrl, token: server.token, port: server.port });
      else {
        io.out(`dashboard of plan ${plan.name}: ${server.openUrl}`);
        io.out('read-only, on 127.0.0.1 only; the token in that URL is required on every request (keep it to the incident room). Ctrl-C stops it.');
      }
      await new Promise<void>((done) => {
        process.once('SIGINT', () => done());
        process.once('SIGTERM', () => done());
      });
      await server.close();
      return ExitCode.Ok;
    });
  },
});

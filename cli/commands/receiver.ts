/**
 * `secrets-dr receiver [--port N] [-f PLAN ...] [--plans-dir DIR]`: the HTTP endpoint of the
 * EventBridge API destinations that `events install` creates. The API key comes from
 * SECRETS_DR_RECEIVER_API_KEY (the same variable the workers use for the connection).
 */
import { z } from 'zod';
import { ErrorType, ExitCode, OperatorError } from '../../domain/errors.js';
import { defineCommand } from '../command.js';
import { loadPlanFile } from '../plan-file.js';
import { withTemporal } from '../temporal.js';
import { startReceiver } from '../receiver-server.js';

export const receiverCommand = defineCommand({
  words: ['receiver'],
  summary: 'HTTP endpoint for EventBridge API destinations (API key, validation, signal-with-start of recover)',
  usage: 'secrets-dr receiver [--port N] [--host H] [-f PLAN ...] [--plans-dir DIR]   (key: SECRETS_DR_RECEIVER_API_KEY)',
  options: {
    port: { type: 'string', default: '8787' },
    host: { type: 'string', default: '127.0.0.1' },
    plan: { type: 'string', short: 'f', multiple: true },
    'plans-dir': { type: 'string' },
    'ready-file': { type: 'string' },
  },
  schema: z.object({
    port: z.coerce.number().int().min(0).max(65_535),
    host: z.string().min(1),
    plan: z.array(z.string()).optional(),
    'plans-dir': z.string().optional(),
    'ready-file': z.string().optional(),
    json: z.boolean(),
    positionals: z.array(z.string()).max(0),
  }),
  async run(opts, io) {
    const apiKey = process.env.SECRETS_DR_RECEIVER_API_KEY;
    if (!apiKey || apiKey.length < 16) {
      throw new OperatorError(ErrorType.ConfigInvalid, 'set SECRETS_DR_RECEIVER_API_KEY (at least 16 characters) to the key the EventBridge connection sends');
    }
    const plans = (opts.plan ?? []).map((f) => loadPlanFile(f).plan);
    if (plans.length === 0 && !opts['plans-dir']) throw new OperatorError(ErrorType.UsageError, 'name the plans this receiver serves: -f PLAN (repeatable) and/or --plans-dir DIR');
    return withTemporal({}, async (c) => {
      const r = await startReceiver({ client: c.client, apiKey, taskQueuePrefix: c.env.SECRETS_DR_TASK_QUEUE_PREFIX, plans, plansDir: opts['plans-dir'], port: opts.port, host: opts.host, log: io.err });
      io.out(`receiver listening on ${r.url}: POST /events/<plan> with header x-secrets-dr-api-key (plans: ${[...plans.map((p) => p.name), ...(opts['plans-dir'] ? [`${opts['plans-dir']}/*.yaml`] : [])].join(', ')})`);
      if (opts['ready-file']) (await import('node:fs')).writeFileSync(opts['ready-file'], `${r.url}\n`);
      await new Promise<void>((res) => {
        process.once('SIGINT', () => res());
        process.once('SIGTERM', () => res());
      });
      await r.close();
      return ExitCode.Ok;
    });
  },
});

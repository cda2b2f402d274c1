/**
 * `secrets-dr receiver [--port N] [--host H] [-f PLAN ...] [--plans-dir DIR] [--tls-cert F --tls-key F]`:
 * the endpoint of the EventBridge API destinations that `events install` creates. The API key
 * comes from SECRETS_DR_RECEIVER_API_KEY (the same variable the workers use for the connection).
 * HTTPS with a certificate; plain HTTP only on loopback, or with an explicit --insecure-http.
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { createSecureContext } from 'node:tls';
import { z } from 'zod';
import { ErrorType, ExitCode, OperatorError } from '../../domain/errors.js';
import { defineCommand } from '../command.js';
import { loadPlanFile } from '../plan-file.js';
import { withTemporal } from '../temporal.js';
import { startReceiver } from '../receiver-server.js';
import { envValue, loadEnv } from '../../worker/config.js';
import { stderrLog } from '../../worker/log.js';

/** 127.0.0.0/8, ::1 and localhost: nothing but this host can reach them. */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h === '::1') return true;
  return isIP(h) === 4 && h.startsWith('127.');
}

function readPemFile(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new OperatorError(ErrorType.ConfigInvalid, `${what} ${path}: cannot read it (${(err as Error).message}); give a PEM file`);
  }
}

/** Certificate and key, checked to be a pair now rather than at the first request. */
export function loadReceiverTls(certPath?: string, keyPath?: string): { cert: Buffer; key: Buffer } | undefined {
  if (!certPath && !keyPath) return undefined;
  if (!certPath || !keyPath) {
    throw new OperatorError(
      ErrorType.UsageError,
      `HTTPS needs both --tls-cert and --tls-key (or SECRETS_DR_RECEIVER_TLS_CERT and SECRETS_DR_RECEIVER_TLS_KEY); only ${certPath ? '--tls-cert' : '--tls-key'} was given`,
    );
  }
  const tls = { cert: readPemFile(certPath, '--tls-cert'), key: readPemFile(keyPath, '--tls-key') };
  try {
    createSecureContext(tls);
  } catch (err) {
    throw new OperatorError(
      ErrorType.ConfigInvalid,
      `--tls-cert ${certPath} / --tls-key ${keyPath}: not a usable certificate and key pair (${(err as Error).message}); give the PEM certificate chain and its private key`,
    );
  }
  return tls;
}

export const receiverCommand = defineCommand({
  words: ['receiver'],
  summary: 'HTTPS endpoint for EventBridge API destinations (API key, validation, signal-with-start of recover)',
  examples: [
    'secrets-dr receiver -f secrets-dr.yaml --host 0.0.0.0 --port 8443 --tls-cert /etc/secrets-dr/tls.crt --tls-key /etc/secrets-dr/tls.key',
    'secrets-dr receiver --plans-dir ~/.secrets-dr/plans   # loopback only: plain HTTP for a local proxy',
  ],
  options: {
    port: { type: 'string', default: '8787', description: 'port to listen on', placeholder: 'N' },
    host: { type: 'string', default: '127.0.0.1', description: 'address to bind; anything but loopback needs --tls-cert/--tls-key', placeholder: 'H' },
    plan: { type: 'string', short: 'f', multiple: true, description: 'plan this receiver serves (repeatable)', placeholder: 'PLAN' },
    'plans-dir': { type: 'string', description: 'directory of plan files, re-read when an unknown plan is asked for', placeholder: 'DIR' },
    'ready-file': { type: 'string', description: 'write the URL to this file once listening', placeholder: 'FILE' },
    'tls-cert': { type: 'string', description: 'PEM certificate chain: serve HTTPS (else SECRETS_DR_RECEIVER_TLS_CERT)', placeholder: 'FILE' },
    'tls-key': { type: 'string', description: 'PEM private key of --tls-cert (else SECRETS_DR_RECEIVER_TLS_KEY)', placeholder: 'FILE' },
    'insecure-http': { type: 'boolean', default: false, description: 'allow plain HTTP on a non-loopback address (behind a TLS-terminating proxy only)' },
  },
  schema: z.object({
    port: z.coerce.number().int().min(0).max(65_535),
    host: z.string().min(1),
    plan: z.array(z.string()).optional(),
    'plans-dir': z.string().optional(),
    'ready-file': z.string().optional(),
    'tls-cert': z.string().min(1).optional(),
    'tls-key': z.string().min(1).optional(),
    'insecure-http': z.boolean(),
    json: z.boolean(),
    positionals: z.array(z.string()).max(0),
  }),
  async run(opts, io) {
    const env = loadEnv();
    const apiKey = envValue('SECRETS_DR_RECEIVER_API_KEY');
    if (!apiKey) {
      throw new OperatorError(ErrorType.ConfigInvalid, 'set SECRETS_DR_RECEIVER_API_KEY (at least 16 characters) to the key the EventBridge connection sends');
    }
    const tls = loadReceiverTls(opts['tls-cert'] ?? env.SECRETS_DR_RECEIVER_TLS_CERT, opts['tls-key'] ?? env.SECRETS_DR_RECEIVER_TLS_KEY);
    if (!tls && !isLoopback(opts.host) && !opts['insecure-http']) {
      throw new OperatorError(
        ErrorType.UsageError,
        `--host ${opts.host} without TLS refused: on a network address the API key header and the events would cross it in clear text, and EventBridge API destinations call HTTPS endpoints only. Give --tls-cert FILE --tls-key FILE, bind 127.0.0.1, or (behind a TLS-terminating proxy) pass --insecure-http`,
      );
    }
    const plans = (opts.plan ?? []).map((f) => loadPlanFile(f).plan);
    if (plans.length === 0 && !opts['plans-dir'])
      throw new OperatorError(ErrorType.UsageError, 'name the plans this receiver serves: -f PLAN (repeatable) and/or --plans-dir DIR');
    const log = stderrLog(env.SECRETS_DR_LOG_FORMAT);
    return withTemporal({ env }, async (c) => {
      const r = await startReceiver({
        client: c.client,
        apiKey,
        taskQueuePrefix: c.env.SECRETS_DR_TASK_QUEUE_PREFIX,
        plans,
        plansDir: opts['plans-dir'],
        port: opts.port,
        host: opts.host,
        ...(tls ? { tls } : {}),
        log: (line, fields) => log('info', line, fields),
      });
      const served = [...plans.map((p) => p.name), ...(opts['plans-dir'] ? [`${opts['plans-dir']}/*.yaml`] : [])];
      io.out(`receiver listening on ${r.url}: POST /events/<plan> with header x-secrets-dr-api-key (plans: ${served.join(', ')})`);
      if (!tls && !isLoopback(opts.host))
        log('warn', `receiver: plain HTTP on ${opts.host} (--insecure-http): only behind a TLS-terminating proxy`, { host: opts.host });
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

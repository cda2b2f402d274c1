/**
 * `secrets-dr receiver`: the HTTPS (or, on loopback, HTTP) endpoint EventBridge API destinations call. Per request:
 * path (POST /events/<plan>) → method (405) → API key header, compared in constant time (401) →
 * size limit (413) → JSON + zod validation (400) → signal-with-start of recover (202), or 200 for
 * a valid event that is not for us (an OK state, another alarm). Rejections are logged and start
 * nothing. Plans come from `-f` files and/or a directory re-read on a miss (the lab's plans dir,
 * filled by `events install`).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import type { Problem } from '../domain/errors.js';
import { PLAN_CONFIG_INVALID_STATUS, RECEIVER_API_KEY_HEADER, RECEIVER_MAX_BODY_BYTES } from '../domain/inbound-events.js';
import type { Plan } from '../domain/plan.js';
import { parsePlanText } from './plan-file.js';
import { triggerRecover } from './recover-trigger.js';

interface ReceiverOptions {
  client: Client;
  apiKey: string;
  taskQueuePrefix: string;
  plans?: Plan[];
  plansDir?: string;
  port?: number;
  host?: string;
  maxBodyBytes?: number;
  /** PEM certificate chain and key: serve HTTPS. */
  tls?: { cert: Buffer; key: Buffer };
  /** One line per request; `fields` carry the same facts for a JSON log (method, path, status). */
  log?: (line: string, fields?: Record<string, unknown>) => void;
}

export interface RunningReceiver {
  url: string;
  port: number;
  server: Server;
  close(): Promise<void>;
}

const digest = (s: string) => createHash('sha256').update(s).digest();

/** Constant-time: both sides hashed to 32 bytes first, so neither length nor content leaks through timing. */
export function apiKeyMatches(given: string | string[] | undefined, expected: string): boolean {
  if (typeof given !== 'string' || expected === '') return false;
  return timingSafeEqual(digest(given), digest(expected));
}

/** A plan file the receiver could not use: its problems (YAML, alias bomb, schema) with paths. */
interface InvalidPlanFile {
  file: string;
  problems: Problem[];
}

function plansFromDir(dir: string): { plans: Plan[]; invalid: InvalidPlanFile[] } {
  const out = { plans: [] as Plan[], invalid: [] as InvalidPlanFile[] };
  if (!existsSync(dir)) return out;
  for (const f of readdirSync(dir).filter((x) => /\.ya?ml$/.test(x))) {
    const file = join(dir, f);
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      out.invalid.push({ file, problems: [{ path: '(file)', message: `cannot read it: ${(err as Error).message}` }] });
      continue;
    }
    const { plan, problems } = parsePlanText(text);
    if (plan) out.plans.push(plan);
    else out.invalid.push({ file, problems });
  }
  return out;
}

/** One line naming every unusable plan file and its first problem. */
function invalidPlansText(invalid: readonly InvalidPlanFile[]): string {
  return invalid.map((i) => `${i.file}: ${i.problems[0] ? `${i.problems[0].path}: ${i.problems[0].message}` : 'invalid'}`).join('; ');
}

export async function startReceiver(opts: ReceiverOptions): Promise<RunningReceiver> {
  if (!opts.apiKey) throw new Error('the receiver needs an API key (SECRETS_DR_RECEIVER_API_KEY)');
  const log = opts.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const max = opts.maxBodyBytes ?? RECEIVER_MAX_BODY_BYTES;
  const plans = new Map((opts.plans ?? []).map((p) => [p.name, p]));
  let invalid: InvalidPlanFile[] = [];
  const findPlan = (name: string): Plan | undefined => {
    if (!plans.has(name) && opts.plansDir) {
      const read = plansFromDir(opts.plansDir);
      for (const p of read.plans) plans.set(p.name, p);
      invalid = read.invalid;
    }
    return plans.get(name);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const send = (status: number, payload: Record<string, unknown>, headers: Record<string, string> = {}) => {
      const text = JSON.stringify(payload);
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
      res.end(text);
      const what = payload.error ?? payload.ignored ?? payload.workflowId ?? '';
      log(`receiver: ${req.method} ${req.url} → ${status}${what ? ` (${String(what)})` : ''}`, {
        method: req.method,
        path: req.url,
        status,
        ...(what ? { detail: String(what) } : {}),
      });
    };
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://receiver');
    } catch {
      return send(400, { error: 'the request path is not a valid URL path' });
    }
    if (url.pathname === '/health') return send(200, { ok: true });
    const m = /^\/events\/([^/]+)$/.exec(url.pathname);
    if (!m) return send(404, { error: 'not found: POST /events/<plan>' });
    // A malformed %-escape is the sender's fault for good: 400 (a 5xx would make EventBridge retry it for a day).
    let planName: string;
    try {
      planName = decodeURIComponent(m[1]!);
    } catch {
      return send(400, { error: `malformed %-escape in the plan name "${m[1]!.slice(0, 100)}": percent-encode it (encodeURIComponent)` });
    }
    if (req.method !== 'POST') return send(405, { error: `method ${req.method} not allowed` }, { allow: 'POST' });
    if (!apiKeyMatches(req.headers[RECEIVER_API_KEY_HEADER], opts.apiKey)) return send(401, { error: `missing or wrong ${RECEIVER_API_KEY_HEADER}` });
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > max) {
      res.setHeader('connection', 'close');
      return send(413, { error: `body larger than ${max} bytes` });
    }
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const c of req as AsyncIterable<Buffer>) {
      size += c.length;
      if (size > max) {
        res.setHeader('connection', 'close');
        return send(413, { error: `body larger than ${max} bytes` });
      }
      chunks.push(c);
    }
    const plan = findPlan(planName);
    if (!plan && invalid.length > 0) {
      // Our configuration is broken, not the event: a clear 4xx (no retry helps until the file is fixed).
      return send(PLAN_CONFIG_INVALID_STATUS, {
        error: `no valid plan ${planName} on this receiver: ${invalid.length} plan file(s) in ${opts.plansDir} are invalid (${invalidPlansText(invalid)}); fix them (\`secrets-dr plan validate -f FILE\`)`,
        invalidPlanFiles: invalid,
      });
    }
    if (!plan) return send(404, { error: `no plan ${planName} on this receiver` });
    let body: unknown;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      return send(400, { error: 'the body is not JSON' });
    }
    const out = await triggerRecover(opts.client, plan, body, { taskQueuePrefix: opts.taskQueuePrefix });
    if (out.status === 400) return send(400, { error: out.error, issues: out.issues });
    if (out.status === 200) return send(200, { ignored: out.ignored });
    return send(202, { workflowId: out.workflowId, runId: out.runId, eventId: out.hint.eventId, region: out.hint.region });
  };

  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    handle(req, res).catch((err: unknown) => {
      log(`receiver: ${req.method} ${req.url} failed: ${(err as Error).message}`, {
        method: req.method,
        path: req.url,
        status: 503,
        error: (err as Error).message,
      });
      if (!res.headersSent) {
        // 5xx: EventBridge retries the delivery (Temporal down for a moment, say).
        res.writeHead(503, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: 'could not hand the event to Temporal; retry' }));
      }
    });
  };
  const server: Server = opts.tls ? createHttpsServer({ cert: opts.tls.cert, key: opts.tls.key }, onRequest) : createServer(onRequest);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const host = opts.host ?? '127.0.0.1';
  return {
    url: `${opts.tls ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

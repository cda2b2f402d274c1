/**
 * A Temporal codec server (POST /decode, POST /encode: `{"payloads": [...]}` in proto3 JSON, every bytes field
 * base64) for the payloads secrets-dr stores compressed (worker/payload-codec.ts), so the Temporal Web UI and
 * `temporal workflow show --codec-endpoint` show them as JSON. On 127.0.0.1 only; the browser may call it only
 * from the given UI origins (CORS). Payloads hold names, ARNs and outcomes, never a secret value (invariant).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Payload } from '@temporalio/common';
import { GzipPayloadCodec } from '../worker/payload-codec.js';

/** A request body larger than this is refused (413): a history page's payloads are well below it. */
export const MAX_BODY_BYTES = 16 * 1024 * 1024;

interface JsonPayload {
  metadata?: Record<string, string>;
  data?: string;
}

export interface CodecServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

const fromJson = (p: JsonPayload): Payload => ({
  metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
  data: Buffer.from(p.data ?? '', 'base64'),
});
const toJson = (p: Payload): JsonPayload => ({
  metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v ?? new Uint8Array()).toString('base64')])),
  data: Buffer.from(p.data ?? new Uint8Array()).toString('base64'),
});

/** The body as text; over MAX_BODY_BYTES it stops buffering and rejects with status 413 (the rest is drained, not kept). */
function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (over) return;
      if (size > MAX_BODY_BYTES) {
        over = true;
        chunks.length = 0;
        reject(Object.assign(new Error(`request body over ${MAX_BODY_BYTES} bytes`), { status: 413 }));
      } else chunks.push(c);
    });
    req.on('end', () => {
      if (!over) resolve(Buffer.concat(chunks).toString('utf8'));
    });
    req.on('error', reject);
  });
}

export async function startCodecServer(o: { port: number; origins: string[] }): Promise<CodecServer> {
  const codec = new GzipPayloadCodec();
  const send = (res: ServerResponse, status: number, body: unknown) => {
    // A refused body is not read on: the connection closes once the answer is out.
    res.writeHead(status, { 'content-type': 'application/json', ...(status === 413 ? { connection: 'close' } : {}) });
    res.end(JSON.stringify(body));
  };
  const server: Server = createServer((req, res) => {
    const origin = req.headers.origin;
    if (origin && o.origins.includes(origin)) {
      res.setHeader('access-control-allow-origin', origin);
      res.setHeader('access-control-allow-headers', 'content-type, x-namespace, authorization');
      res.setHeader('access-control-allow-methods', 'POST, OPTIONS');
      // The Web UI's "include cross-origin credentials" setting fetches with credentials: allowed for these origins only.
      res.setHeader('access-control-allow-credentials', 'true');
      res.setHeader('vary', 'origin');
    }
    const rawPath = (req.url ?? '/').split('?')[0]!;
    // The last segment decides (the protocol): `/decode`, `/{namespace}/decode`, `//decode` from an endpoint ending in `/`.
    const last = /\/(decode|encode)$/.exec(rawPath)?.[1];
    const path = last ? `/${last}` : rawPath;
    if (req.method === 'OPTIONS') return void res.writeHead(origin && o.origins.includes(origin) ? 204 : 403).end();
    if (!last) return send(res, 404, { error: `unknown path ${rawPath}: POST /decode or /encode` });
    if (req.method !== 'POST') return send(res, 405, { error: `${req.method} ${path}: only POST` });
    if (origin && !o.origins.includes(origin)) return send(res, 403, { error: `origin ${origin} is not allowed: start the server with --origin ${origin}` });
    readBody(req)
      .then(async (text) => {
        const body = JSON.parse(text) as { payloads?: unknown };
        if (!Array.isArray(body.payloads)) return send(res, 400, { error: 'expected {"payloads": [...]}' });
        const payloads = (body.payloads as JsonPayload[]).map(fromJson);
        const out = path === '/decode' ? await codec.decode(payloads) : await codec.encode(payloads);
        send(res, 200, { payloads: out.map(toJson) });
      })
      .catch((err: Error & { status?: number }) => send(res, err.status ?? 400, { error: err.message }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return { url: `http://127.0.0.1:${port}`, port, close: () => new Promise<void>((r) => server.close(() => r())) };
}

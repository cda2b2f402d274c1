/**
 * The standalone receiver over HTTPS (`--tls-cert/--tls-key`), with a self-signed certificate made
 * at test time by the openssl CLI, verified by the client against that certificate (no
 * `rejectUnauthorized: false`). A non-loopback bind without TLS is refused unless --insecure-http.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Client, Connection } from '@temporalio/client';
import { startReceiver, type RunningReceiver } from '../../cli/receiver-server.js';
import { isLoopback, loadReceiverTls } from '../../cli/commands/receiver.js';
import { main } from '../../cli/main.js';
import { parsePlanText } from '../../cli/plan-file.js';
import { dataConverter } from '../../worker/payload-codec.js';

const dir = mkdtempSync(join(tmpdir(), 'secrets-dr-tls-'));
const cert = join(dir, 'tls.crt');
const key = join(dir, 'tls.key');
const otherKey = join(dir, 'other.key');
const planFile = join(dir, 'plan.yaml');
const KEY = 'receiver-test-api-key-0123456789';
const PLAN = 'name: tlsplan\nprimaryRegion: ap-northeast-1\ndrRegions: [{ region: ap-northeast-3 }]\nsecrets: { include: [{ prefix: prod/ }] }\n';

let r: RunningReceiver | undefined;
let connection: Connection;

beforeAll(() => {
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
    ],
    { stdio: 'ignore' },
  );
  execFileSync('openssl', ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', otherKey], { stdio: 'ignore' });
  writeFileSync(planFile, PLAN);
});
afterAll(async () => {
  await r?.close();
  await connection?.close();
});

function get(url: string, path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, url), { method, headers, ca: readFileSync(cert) }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function cli(args: string[], env: Record<string, string> = {}): Promise<{ code: number; err: string }> {
  const saved = { ...process.env };
  Object.assign(process.env, { SECRETS_DR_RECEIVER_API_KEY: KEY, TEMPORAL_ADDRESS: '127.0.0.1:1', ...env });
  const chunks: string[] = [];
  const spy = vi.spyOn(process.stderr, 'write').mockImplementation((c: string | Uint8Array) => (chunks.push(String(c)), true));
  try {
    return { code: await main(['receiver', ...args]), err: chunks.join('') };
  } finally {
    spy.mockRestore();
    process.env = saved;
  }
}

describe('the receiver over HTTPS', () => {
  it('serves HTTPS with the given certificate: a verifying client gets /health, and the API key check still applies', async () => {
    connection = Connection.lazy({ address: '127.0.0.1:1' }); // no request here reaches Temporal
    const { plan } = parsePlanText(PLAN);
    const lines: Array<{ line: string; fields?: Record<string, unknown> }> = [];
    r = await startReceiver({
      client: new Client({ connection, dataConverter }),
      apiKey: KEY,
      taskQueuePrefix: 'tls-test',
      plans: [plan!],
      tls: loadReceiverTls(cert, key),
      log: (line, fields) => lines.push({ line, fields }),
    });
    expect(r.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(await get(r.url, '/health')).toEqual({ status: 200, body: '{"ok":true}' });
    expect((await get(r.url, '/events/tlsplan', { 'x-secrets-dr-api-key': 'wrong' }, 'POST')).status).toBe(401);
    expect(lines.map((l) => l.fields)).toEqual([
      { method: 'GET', path: '/health', status: 200 },
      { method: 'POST', path: '/events/tlsplan', status: 401, detail: 'missing or wrong x-secrets-dr-api-key' },
    ]);
  });

  it('a plain-HTTP client gets no answer from the HTTPS port', async () => {
    const { port } = r!;
    const http = await import('node:http');
    const outcome = await new Promise<string>((resolve) => {
      const req = http.request({ host: '127.0.0.1', port, path: '/health' }, (res) => resolve(`status ${res.statusCode}`));
      req.on('error', (e) => resolve(`error ${e.message}`));
      req.end();
    });
    expect(outcome).not.toBe('status 200');
  });

  it('loopback is 127.0.0.0/8, ::1 and localhost only', () => {
    expect(['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost'].every(isLoopback)).toBe(true);
    expect(['0.0.0.0', '10.0.0.5', '::', 'receiver.internal', '128.0.0.1'].some(isLoopback)).toBe(false);
  });

  it('binding a network address without TLS is refused before anything starts, saying why and what to do', async () => {
    const out = await cli(['-f', planFile, '--host', '0.0.0.0']);
    expect(out.code).toBe(2);
    expect(out.err).toMatch(/--host 0\.0\.0\.0 without TLS refused: .*clear text.*HTTPS endpoints only.*--tls-cert FILE --tls-key FILE.*--insecure-http/);
  });

  it('--insecure-http lifts the refusal (the command goes on to connect to Temporal, which is not there here)', { timeout: 30_000 }, async () => {
    const out = await cli(['-f', planFile, '--host', '0.0.0.0', '--insecure-http']);
    expect(out.err).not.toMatch(/without TLS refused/);
    expect(out.err).toMatch(/cannot reach the Temporal server at 127\.0\.0\.1:1/);
    expect(out.code).toBe(1);
  });

  it('a certificate without its key, a key that does not match, and an unreadable file are clear errors', async () => {
    expect((await cli(['-f', planFile, '--tls-cert', cert])).err).toMatch(/HTTPS needs both --tls-cert and --tls-key .*only --tls-cert was given/);
    expect((await cli(['-f', planFile, '--tls-cert', cert, '--tls-key', otherKey])).err).toMatch(/not a usable certificate and key pair/);
    expect((await cli(['-f', planFile], { SECRETS_DR_RECEIVER_TLS_CERT: join(dir, 'missing.crt'), SECRETS_DR_RECEIVER_TLS_KEY: key })).err).toMatch(
      /--tls-cert .*missing\.crt: cannot read it/,
    );
  });
});

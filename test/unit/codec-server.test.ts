import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultPayloadConverter } from '@temporalio/common';
import { MAX_BODY_BYTES, startCodecServer, type CodecServer } from '../../cli/codec-server.js';
import { GZIP_ENCODING, GzipPayloadCodec } from '../../worker/payload-codec.js';

const UI = 'http://localhost:8233';
let server: CodecServer;
beforeAll(async () => {
  server = await startCodecServer({ port: 0, origins: [UI] });
});
afterAll(() => server.close());

const b64 = (b: Uint8Array | null | undefined) => Buffer.from(b ?? new Uint8Array()).toString('base64');
const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

describe('codec-server (the Temporal Codec Server protocol for the compressed payloads)', () => {
  it('decodes a compressed payload to the JSON it was, and leaves a plain one as it is', async () => {
    const value = { outcomes: Array.from({ length: 400 }, (_, i) => ({ name: `prod/app-${i}/db`, status: 'promoted' })) };
    const [packed] = await new GzipPayloadCodec().encode([defaultPayloadConverter.toPayload(value)]);
    expect(Buffer.from(packed!.metadata!.encoding!).toString()).toBe(GZIP_ENCODING);
    const plain = defaultPayloadConverter.toPayload({ small: true });
    const res = await post(
      '/default/decode',
      {
        payloads: [packed, plain].map((p) => ({ metadata: { encoding: b64(p!.metadata!.encoding) }, data: b64(p!.data) })),
      },
      { origin: UI, 'x-namespace': 'default' },
    );
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe(UI);
    const out = (await res.json()) as { payloads: Array<{ metadata: { encoding: string }; data: string }> };
    expect(out.payloads.map((p) => Buffer.from(p.metadata.encoding, 'base64').toString())).toEqual(['json/plain', 'json/plain']);
    expect(JSON.parse(Buffer.from(out.payloads[0]!.data, 'base64').toString())).toEqual(value);
    expect(JSON.parse(Buffer.from(out.payloads[1]!.data, 'base64').toString())).toEqual({ small: true });
  });

  it('refuses another origin, an unknown path, a GET and a malformed body, each with the reason', async () => {
    const evil = await post('/decode', { payloads: [] }, { origin: 'https://evil.example' });
    expect(evil.status).toBe(403);
    expect(evil.headers.get('access-control-allow-origin')).toBeNull();
    expect(((await evil.json()) as { error: string }).error).toMatch(/--origin https:\/\/evil\.example/);
    expect((await post('/other', { payloads: [] })).status).toBe(404);
    expect((await fetch(`${server.url}/decode`)).status).toBe(405);
    const bad = await post('/decode', { nothing: 1 });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toMatch(/payloads/);
    const preflight = await fetch(`${server.url}/decode`, { method: 'OPTIONS', headers: { origin: UI } });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-headers')).toMatch(/x-namespace/);
  });

  it('the last path segment decides (an endpoint configured with a trailing slash still decodes); an oversized body gets 413', async () => {
    const ok = await post('//decode', { payloads: [] }, { origin: UI });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('access-control-allow-credentials')).toBe('true');
    const huge = await fetch(`${server.url}/decode`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: 'x'.repeat(MAX_BODY_BYTES + 1) });
    expect(huge.status).toBe(413);
    expect(((await huge.json()) as { error: string }).error).toMatch(/request body over/);
    // The server still answers afterwards.
    expect((await post('/encode', { payloads: [] })).status).toBe(200);
  });
});

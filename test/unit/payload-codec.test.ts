import { describe, expect, it } from 'vitest';
import { defaultPayloadConverter } from '@temporalio/common';
import { gzipSync } from 'node:zlib';
import { COMPRESS_FROM_BYTES, compressionFromEnv, GZIP_ENCODING, GzipPayloadCodec, MAX_DECODED_BYTES } from '../../worker/payload-codec.js';
import { decodePayloadData, payloadJson } from '../support/leaks.js';
import { loadEnv } from '../../worker/config.js';

const codec = new GzipPayloadCodec();
const enc = (p: { metadata?: Record<string, Uint8Array> | null }) => Buffer.from(p.metadata?.encoding ?? []).toString();
/** A chunk's outcomes as failover returns them: the same keys for every secret, a random suffix each. */
const outcomes = (n: number) => ({
  outcomes: Array.from({ length: n }, (_, i) => ({
    name: `prod/team-${i % 37}/service-${i}/db-password`,
    status: 'promoted',
    arn: `arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/team-${i % 37}/service-${i}/db-password-${(i * 7919).toString(36).slice(-6)}`,
    readable: true,
    writable: true,
  })),
});

describe('GzipPayloadCodec (issue 18, target 2)', () => {
  it('leaves a payload under the threshold as it is: small inputs stay readable JSON', async () => {
    const p = defaultPayloadConverter.toPayload({ plan: 'small', n: 3 });
    const [out] = await codec.encode([p]);
    expect(out).toBe(p);
    expect(enc(out!)).toBe('json/plain');
  });

  it('compresses a large payload, and decoding gives back the very payload (metadata and data)', async () => {
    const value = outcomes(1000);
    const p = defaultPayloadConverter.toPayload(value);
    expect(p.data!.length).toBeGreaterThan(COMPRESS_FROM_BYTES);
    const [out] = await codec.encode([p]);
    expect(enc(out!)).toBe(GZIP_ENCODING);
    const ratio = p.data!.length / out!.data!.length;
    expect(ratio, `compression ratio of 1,000 outcomes (${p.data!.length} → ${out!.data!.length} bytes)`).toBeGreaterThan(5);
    const [back] = await codec.decode([out!]);
    expect(enc(back!)).toBe('json/plain');
    expect(defaultPayloadConverter.fromPayload(back!)).toEqual(value);
  });

  it('decodes what it did not encode untouched (histories from before the codec), and never compresses twice', async () => {
    const plain = defaultPayloadConverter.toPayload(outcomes(200));
    expect(await codec.decode([plain])).toEqual([plain]);
    const [once] = await codec.encode([plain]);
    const [twice] = await codec.encode([once!]);
    expect(twice).toBe(once);
  });

  it('refuses a gzip payload without data with a clear error', async () => {
    await expect(codec.decode([{ metadata: { encoding: Buffer.from(GZIP_ENCODING) } }])).rejects.toThrow(/binary\/gzip payload has no data/);
  });

  it('the leak scan and payloadJson read through the compression (positive control for every history scan)', async () => {
    const marker = 'leak-scan-marker-7f3a';
    const value = { ...outcomes(300), note: marker };
    const [out] = await codec.encode([defaultPayloadConverter.toPayload(value)]);
    const json = JSON.stringify({ data: Buffer.from(out!.data!).toString('base64') });
    expect(json).not.toContain(marker);
    expect(decodePayloadData(json)).toContain(marker);
    expect(payloadJson(out!.data)).toEqual(value);
  });

  it('compresses from exactly COMPRESS_FROM_BYTES of data on, not one byte before', async () => {
    const sized = (n: number) => ({ metadata: { encoding: Buffer.from('json/plain') }, data: Buffer.from(`"${'a'.repeat(n - 2)}"`) });
    const [below, at] = await codec.encode([sized(COMPRESS_FROM_BYTES - 1), sized(COMPRESS_FROM_BYTES)]);
    expect(enc(below!)).toBe('json/plain');
    expect(enc(at!)).toBe(GZIP_ENCODING);
  });

  it('SECRETS_DR_COMPRESS_PAYLOADS=0 decodes but writes nothing compressed (the first step of a rolling upgrade); a bad value names the variable', async () => {
    expect(compressionFromEnv({})).toBe(true);
    expect(compressionFromEnv({ SECRETS_DR_COMPRESS_PAYLOADS: '1' })).toBe(true);
    expect(compressionFromEnv({ SECRETS_DR_COMPRESS_PAYLOADS: '0' })).toBe(false);
    expect(() => compressionFromEnv({ SECRETS_DR_COMPRESS_PAYLOADS: 'yes' })).toThrow(/SECRETS_DR_COMPRESS_PAYLOADS="yes": expected 1 .* or 0/);
    // Where a bad value is caught first: the environment's validation when a command or the worker starts.
    let problems: unknown;
    try {
      loadEnv({ SECRETS_DR_COMPRESS_PAYLOADS: 'yes' });
    } catch (err) {
      problems = (err as { problems?: unknown }).problems;
    }
    expect(JSON.stringify(problems)).toMatch(/SECRETS_DR_COMPRESS_PAYLOADS.*expected 1 .*or 0/);
    const decodeOnly = new GzipPayloadCodec(Number.POSITIVE_INFINITY);
    const big = defaultPayloadConverter.toPayload(outcomes(1000));
    const [kept] = await decodeOnly.encode([big]);
    expect(kept).toBe(big);
    const [packed] = await codec.encode([big]);
    expect(defaultPayloadConverter.fromPayload((await decodeOnly.decode([packed!]))[0]!)).toEqual(outcomes(1000));
  });

  it('refuses a payload that unzips past MAX_DECODED_BYTES (a zip bomb), and an empty one, with a clear error', async () => {
    const bomb = gzipSync(Buffer.alloc(MAX_DECODED_BYTES + 1024));
    await expect(codec.decode([{ metadata: { encoding: Buffer.from(GZIP_ENCODING) }, data: bomb }])).rejects.toThrow(/could not be decoded \(at most/);
    await expect(codec.decode([{ metadata: { encoding: Buffer.from(GZIP_ENCODING) }, data: new Uint8Array() }])).rejects.toThrow(/has no data/);
  });
});

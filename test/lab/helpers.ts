/** Shared helpers for the lab tests: an in-process lab on a free port and real SDK clients. */
import { Agent } from 'node:http';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterEach, beforeEach } from 'vitest';
import { startLab, type LabOptions, type RunningLab } from '../../lab/server.js';

export const P = 'ap-northeast-1';
export const DR = 'ap-northeast-3';
export const OTHER = 'us-west-2';

export async function withLab(opts: LabOptions = {}): Promise<RunningLab> {
  return startLab({ port: 0, regions: [P, DR, OTHER, 'us-east-1'], replicationLagMs: 150, ...opts });
}

export interface ClientOptions {
  maxAttempts?: number;
  requestTimeout?: number;
}

export function sm(lab: RunningLab, region: string, o: ClientOptions = {}): SecretsManagerClient {
  return new SecretsManagerClient({
    region,
    endpoint: lab.url,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: o.maxAttempts ?? 3,
    requestHandler: {
      httpAgent: new Agent({ keepAlive: true, maxSockets: 200 }),
      ...(o.requestTimeout !== undefined ? { requestTimeout: o.requestTimeout, throwOnRequestTimeout: true } : {}),
    },
  });
}

/**
 * For every test of the file: a fresh lab and an SDK client in `region` (default the primary), handed to
 * `use` before the test (which may seed more); both closed after it.
 */
export function labPerTest(use: (lab: RunningLab, client: SecretsManagerClient) => unknown, o: ClientOptions & { region?: string } = {}): void {
  let lab: RunningLab | undefined;
  let client: SecretsManagerClient | undefined;
  beforeEach(async () => {
    lab = await withLab();
    client = sm(lab, o.region ?? P, o);
    await use(lab, client);
  });
  afterEach(async () => {
    client?.destroy();
    await lab?.close();
  });
}

export async function labPost(lab: RunningLab, path: string, body: unknown = {}): Promise<{ status: number; json: unknown }> {
  const r = await fetch(`${lab.url}${path}`, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
  return { status: r.status, json: await r.json() };
}

export async function labGet(lab: RunningLab, path: string): Promise<unknown> {
  const r = await fetch(`${lab.url}${path}`);
  return r.json();
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `fn` until it returns a truthy value or the deadline passes. */
export async function eventually<T>(fn: () => Promise<T | undefined | false>, timeoutMs = 5000, stepMs = 25): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`condition not met within ${timeoutMs} ms${last ? `: ${String(last)}` : ''}`);
    await sleep(stepMs);
  }
}

/** The error a promise rejects with (fails the test if it resolves). */
export async function rejection(p: Promise<unknown>): Promise<Error & { name: string; $metadata?: { httpStatusCode?: number } }> {
  try {
    await p;
  } catch (e) {
    return e as Error & { name: string };
  }
  throw new Error('expected the call to fail, but it succeeded');
}

export interface RawAnswer {
  status: number;
  errorType: string | null;
  json: Record<string, unknown> & { __type?: string; message?: string };
}

/**
 * One AWS JSON 1.1 call over raw HTTP, as the SDKs send it (X-Amz-Target, a SigV4-shaped
 * Authorization header: the lab reads the Region from its credential scope and checks no signature).
 * To pin wire shapes the SDK clients hide (SSM's raw answers; ssm-sdk.test.ts uses @aws-sdk/client-ssm).
 */
export async function rawAwsCall(lab: RunningLab, region: string, target: string, scope: string, body: unknown): Promise<RawAnswer> {
  const amzDate = new Date().toISOString().replace(/[-:]|\.\d{3}/g, '');
  const r = await fetch(`${lab.url}/`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': target,
      'x-amz-date': amzDate,
      authorization: `AWS4-HMAC-SHA256 Credential=test/${amzDate.slice(0, 8)}/${region}/${scope}/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=${'0'.repeat(64)}`,
    },
    body: JSON.stringify(body),
  });
  return { status: r.status, errorType: r.headers.get('x-amzn-errortype'), json: (await r.json()) as RawAnswer['json'] };
}

/** What a raw (non-SDK) AWS JSON call answered: the status and the parsed body. */
export interface RawCallAnswer {
  status: number;
  body: Record<string, unknown>;
}

/**
 * A raw AWS JSON 1.1 call, as a hand-written HTTP client sends it: no ClientRequestToken filled in,
 * binary values left base64. The lab reads only the Region from the (unverified) SigV4 header.
 */
export async function rawCall(lab: RunningLab, region: string, operation: string, body: Record<string, unknown>): Promise<RawCallAnswer> {
  const r = await fetch(lab.url, {
    method: 'POST',
    body: JSON.stringify(body),
    headers: {
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': `secretsmanager.${operation}`,
      authorization: `AWS4-HMAC-SHA256 Credential=test/20261202/${region}/secretsmanager/aws4_request, SignedHeaders=host, Signature=0`,
    },
  });
  return { status: r.status, body: (await r.json()) as Record<string, unknown> };
}

/** The fields of an SDK answer, sorted, without `$metadata`: what AWS sent (and what it left out). */
export function fieldsOf(answer: object): string[] {
  return Object.keys(answer)
    .filter((k) => k !== '$metadata' && (answer as Record<string, unknown>)[k] !== undefined)
    .sort();
}

/** The error a call rejects with, as type + message + HTTP status. */
export async function awsError(p: Promise<unknown>): Promise<{ name: string; message: string; status: number | undefined }> {
  const e = await rejection(p);
  return { name: e.name, message: e.message, status: e.$metadata?.httpStatusCode };
}

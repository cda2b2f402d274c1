/**
 * The signed client for Secrets Manager's cross-account operations (the interface: activities/cross-account-api.ts), which botocore 1.44.8's model
 * has and @aws-sdk/client-secrets-manager 3.1163 does not yet: CreateSecret with
 * CrossAccountPrimaryARN, AssociateCrossAccountReplica, DisassociateCrossAccountReplica, and
 * DescribeSecret with its new CrossAccountPrimary / CrossAccountReplicas members (the SDK's
 * deserializer drops members its model lacks, so they are read here).
 *
 * AWS JSON 1.1 (`X-Amz-Target: secretsmanager.<Op>`), SigV4 by @smithy/signature-v4 (service
 * `secretsmanager`), the endpoint from `endpoint`, else AWS_ENDPOINT_URL_SECRETS_MANAGER, else
 * AWS_ENDPOINT_URL, else the Region's public endpoint. Errors come back as the SDK's own classes
 * (`ResourceNotFoundException`, ..., else `SecretsManagerServiceException`) with `name`,
 * `message` and `$metadata.httpStatusCode`, so activities/aws-errors.ts classifies them like any SDK
 * error; a call that got no answer throws the transport's error (fetch's `cause.code`, or
 * `TimeoutError`), which it reads as unreachable. No retries here: like the SDK clients of
 * worker/aws-clients.ts the caller's layer (Temporal's activity retry) owns them.
 *
 * Switching to the SDK when it ships these commands: replace the body of `createCrossAccountClient`
 * with the SDK client's methods (same names, same input/output shapes); nothing else changes.
 * Lives in worker/ (the composition root) because it builds the SDK's error classes at runtime;
 * activities see only the interface.
 * No request or answer body is logged or kept (CreateSecret here never carries a value: the model
 * forbids SecretString/SecretBinary on a cross-account replica).
 */
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { request as httpRequest, Agent as HttpAgent } from 'node:http';
import { request as httpsRequest, Agent as HttpsAgent } from 'node:https';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity, Checksum, SourceData } from '@smithy/types';
import * as sm from '@aws-sdk/client-secrets-manager';
import { activitySignal } from '../activities/cancellation.js';
import { CROSS_ACCOUNT_API_OPERATION, type CrossAccountSecretsApi, type DescribeSecretCrossAccountOutput } from '../activities/cross-account-api.js';

export type CredentialsOption = AwsCredentialIdentity | (() => Promise<AwsCredentialIdentity>);

interface CrossAccountClientOptions {
  region: string;
  /** Fixed keys, or a provider (e.g. an SDK client's `config.credentials`, or STS AssumeRole credentials refreshed by the caller). */
  credentials: CredentialsOption;
  /** Overrides the endpoint variables (tests: a fake server). */
  endpoint?: string;
  /** Per-request timeout, ms; default 10,000. */
  requestTimeoutMs?: number;
  /** The environment the endpoint variables are read from; default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Signing time (tests); default now. */
  now?: () => Date;
}

/** SHA-256 / HMAC-SHA-256 over node:crypto, the Checksum @smithy/signature-v4 asks for. */
export class NodeSha256 implements Checksum {
  private h: Hash | Hmac;
  constructor(private readonly secret?: SourceData) {
    this.h = this.fresh();
  }
  private fresh(): Hash | Hmac {
    return this.secret === undefined ? createHash('sha256') : createHmac('sha256', toBuffer(this.secret));
  }
  update(data: Uint8Array): void {
    this.h.update(data);
  }
  digest(): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array(this.h.digest()));
  }
  reset(): void {
    this.h = this.fresh();
  }
}
function toBuffer(d: SourceData): Buffer {
  if (typeof d === 'string') return Buffer.from(d, 'utf8');
  if (ArrayBuffer.isView(d)) return Buffer.from(d.buffer, d.byteOffset, d.byteLength);
  return Buffer.from(d);
}

const httpAgent = new HttpAgent({ keepAlive: true, maxSockets: 50 });
const httpsAgent = new HttpsAgent({ keepAlive: true, maxSockets: 50 });

interface HttpAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/**
 * One POST over node:http(s) with keep-alive, as the SDK's NodeHttpHandler sends it (not fetch,
 * which refuses some ports and hides the socket error codes). No answer: the socket's error
 * (ECONNREFUSED, ECONNRESET...: `code`), a `TimeoutError` after `timeoutMs`, or an `AbortError`
 * once `signal` (the running activity's cancellation) aborts.
 */
function httpPost(url: URL, headers: Record<string, string>, body: string, timeoutMs: number, signal?: AbortSignal): Promise<HttpAnswer> {
  const https = url.protocol === 'https:';
  return new Promise((resolve, reject) => {
    const req = (https ? httpsRequest : httpRequest)(
      url,
      {
        method: 'POST',
        headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
        agent: https ? httpsAgent : httpAgent,
        ...(signal ? { signal } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.setTimeout(timeoutMs, () => {
      const e = new Error(`no answer from ${url.host} within ${timeoutMs} ms`);
      e.name = 'TimeoutError';
      req.destroy(e);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * One SigV4-signed POST to an AWS endpoint (the cross-account client's JSON and STS's Query requests):
 * the signed headers, without the content-length httpPost sets itself, and the answer.
 */
export async function signedPost(opts: {
  service: string;
  region: string;
  credentials: CredentialsOption;
  url: URL;
  headers: Record<string, string>;
  body: string;
  timeoutMs: number;
  signingDate?: Date;
  /** Aborts the request (the running activity's cancellation). Not for STS: concurrent callers share its request. */
  signal?: AbortSignal;
}): Promise<HttpAnswer> {
  const { url, body } = opts;
  const credentials = typeof opts.credentials === 'function' ? opts.credentials : () => Promise.resolve(opts.credentials as AwsCredentialIdentity);
  const signer = new SignatureV4({ service: opts.service, region: opts.region, credentials, sha256: NodeSha256, applyChecksum: false });
  const request = {
    method: 'POST',
    protocol: url.protocol,
    hostname: url.hostname,
    ...(url.port ? { port: Number(url.port) } : {}),
    path: url.pathname || '/',
    query: {},
    headers: { host: url.host, ...opts.headers, 'content-length': String(Buffer.byteLength(body)) },
    body,
  };
  const signed = await signer.sign(request, opts.signingDate ? { signingDate: opts.signingDate } : {});
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(signed.headers)) if (k !== 'content-length') headers[k] = String(v);
  return httpPost(url, headers, body, opts.timeoutMs, opts.signal);
}

/** The Secrets Manager endpoint of a Region: explicit, then the SDK's own endpoint variables, then the public one. */
export function secretsManagerEndpoint(region: string, endpoint?: string, env: NodeJS.ProcessEnv = process.env): string {
  const configured = endpoint ?? env.AWS_ENDPOINT_URL_SECRETS_MANAGER ?? env.AWS_ENDPOINT_URL;
  if (configured) return configured;
  const suffix = region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com';
  return `https://secretsmanager.${region}.${suffix}`;
}

/** An AWS JSON error as the SDK builds it: its modelled class when it has one. */
function sdkError(name: string, message: string, status: number, requestId: string | undefined): Error {
  const $metadata = { httpStatusCode: status, requestId, attempts: 1, totalRetryDelay: 0 };
  const Modelled = (sm as unknown as Record<string, unknown>)[name];
  if (typeof Modelled === 'function' && Modelled.prototype instanceof sm.SecretsManagerServiceException) {
    const Ctor = Modelled as new (o: { message: string; $metadata: typeof $metadata }) => Error;
    return new Ctor({ message, $metadata });
  }
  return new sm.SecretsManagerServiceException({ name, message, $fault: status >= 500 ? 'server' : 'client', $metadata });
}

const DATE_FIELDS = ['LastRotatedDate', 'LastChangedDate', 'LastAccessedDate', 'DeletedDate', 'NextRotationDate', 'CreatedDate'] as const;

const signalOf = (signal: AbortSignal | undefined) => (signal ? { signal } : {});

export function createCrossAccountClient(opts: CrossAccountClientOptions): CrossAccountSecretsApi {
  const url = new URL(secretsManagerEndpoint(opts.region, opts.endpoint, opts.env));
  const timeout = opts.requestTimeoutMs ?? 10_000;

  async function call<T>(operation: string, input: object): Promise<T> {
    const body = JSON.stringify(input);
    const res = await signedPost({
      service: 'secretsmanager',
      region: opts.region,
      credentials: opts.credentials,
      url,
      headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': `secretsmanager.${operation}` },
      body,
      timeoutMs: timeout,
      ...(opts.now ? { signingDate: opts.now() } : {}),
      ...signalOf(activitySignal()),
    });
    const text = res.body;
    const ok = res.status >= 200 && res.status < 300;
    const header = (name: string): string | undefined => {
      const v = res.headers[name];
      return Array.isArray(v) ? v[0] : v;
    };
    const requestId = header('x-amzn-requestid');
    let parsed: Record<string, unknown> = {};
    try {
      parsed = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    } catch {
      if (ok) throw sdkError('SerializationException', `Secrets Manager ${operation}: the answer is not JSON`, res.status, requestId);
    }
    if (!ok) {
      // awsJson1_1: the error type from x-amzn-ErrorType or __type, without its namespace or trailing URL.
      const raw = header('x-amzn-errortype') ?? (typeof parsed.__type === 'string' ? parsed.__type : undefined) ?? `Http${res.status}Error`;
      const name = raw.split(':')[0]!.split('#').pop()!;
      const message = typeof parsed.message === 'string' ? parsed.message : typeof parsed.Message === 'string' ? parsed.Message : '';
      throw sdkError(name, message, res.status, requestId);
    }
    return parsed as T;
  }

  return {
    createCrossAccountReplica: (input) =>
      call(CROSS_ACCOUNT_API_OPERATION.createCrossAccountReplica, { ...input, ClientRequestToken: input.ClientRequestToken ?? crypto.randomUUID() }),
    associateCrossAccountReplica: (input) => call(CROSS_ACCOUNT_API_OPERATION.associateCrossAccountReplica, input),
    disassociateCrossAccountReplica: (input) => call(CROSS_ACCOUNT_API_OPERATION.disassociateCrossAccountReplica, input),
    async describeSecretCrossAccount(input) {
      const out = await call<Record<string, unknown>>(CROSS_ACCOUNT_API_OPERATION.describeSecretCrossAccount, input);
      for (const f of DATE_FIELDS) if (typeof out[f] === 'number') out[f] = new Date((out[f] as number) * 1000);
      if (Array.isArray(out.ReplicationStatus)) {
        for (const r of out.ReplicationStatus as Array<Record<string, unknown>>)
          if (typeof r.LastAccessedDate === 'number') r.LastAccessedDate = new Date(r.LastAccessedDate * 1000);
      }
      return out as DescribeSecretCrossAccountOutput;
    },
  };
}

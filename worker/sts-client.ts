/**
 * STS AssumeRole for the recovery accounts, as a small signed Query request (the same signer as
 * worker/cross-account-client.ts; @aws-sdk/client-sts is not a dependency), and a credential
 * provider that assumes the role again before the keys expire.
 *
 * Endpoint: `endpoint`, else AWS_ENDPOINT_URL_STS, else AWS_ENDPOINT_URL, else the Region's STS
 * endpoint. Errors: STS's XML error (`<Code>`, `<Message>`) as an Error whose `name` is the code
 * (AccessDenied, ExpiredToken, InvalidClientTokenId, ValidationError, ...) with
 * `$metadata.httpStatusCode`, so activities/aws-errors.ts classifies it; no answer: the transport's error.
 * The secret key and session token are returned to the caller only; never logged.
 */
import type { AwsCredentialIdentity } from '@smithy/types';
import { signedPost, type CredentialsOption } from './cross-account-client.js';

interface AssumeRoleInput {
  RoleArn: string;
  RoleSessionName: string;
  ExternalId?: string;
  /** 900..43200; default 3600 (STS's default). */
  DurationSeconds?: number;
}

interface AssumedCredentials extends AwsCredentialIdentity {
  sessionToken: string;
  expiration: Date;
  /** arn:aws:sts::<account>:assumed-role/<role>/<session> */
  assumedRoleArn: string;
}

interface StsClientOptions {
  region: string;
  credentials: CredentialsOption;
  endpoint?: string;
  env?: NodeJS.ProcessEnv;
  requestTimeoutMs?: number;
}

class StsError extends Error {
  readonly $metadata: { httpStatusCode: number; requestId?: string };
  constructor(name: string, message: string, status: number, requestId?: string) {
    super(message);
    this.name = name;
    this.$metadata = { httpStatusCode: status, ...(requestId ? { requestId } : {}) };
  }
}

export function stsEndpoint(region: string, endpoint?: string, env: NodeJS.ProcessEnv = process.env): string {
  const configured = endpoint ?? env.AWS_ENDPOINT_URL_STS ?? env.AWS_ENDPOINT_URL;
  if (configured) return configured;
  return `https://sts.${region}.${region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com'}`;
}

const unescapeXml = (s: string): string =>
  s
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&');
function tag(xml: string, name: string): string | undefined {
  const m = new RegExp(`<${name}>([\\s\\S]*?)</${name}>`).exec(xml);
  return m ? unescapeXml(m[1]!) : undefined;
}

async function stsCall(opts: StsClientOptions, action: string, params: Record<string, string>): Promise<string> {
  const url = new URL(stsEndpoint(opts.region, opts.endpoint, opts.env));
  const body = new URLSearchParams({ Action: action, Version: '2011-06-15', ...params }).toString();
  const res = await signedPost({
    service: 'sts',
    region: opts.region,
    credentials: opts.credentials,
    url,
    headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
    body,
    timeoutMs: opts.requestTimeoutMs ?? 10_000,
  });
  const text = res.body;
  if (res.status < 200 || res.status >= 300) {
    throw new StsError(tag(text, 'Code') ?? `Http${res.status}Error`, tag(text, 'Message') ?? '', res.status, tag(text, 'RequestId'));
  }
  return text;
}

export async function assumeRole(opts: StsClientOptions, input: AssumeRoleInput): Promise<AssumedCredentials> {
  const params: Record<string, string> = { RoleArn: input.RoleArn, RoleSessionName: input.RoleSessionName };
  if (input.ExternalId !== undefined) params.ExternalId = input.ExternalId;
  if (input.DurationSeconds !== undefined) params.DurationSeconds = String(input.DurationSeconds);
  const xml = await stsCall(opts, 'AssumeRole', params);
  const accessKeyId = tag(xml, 'AccessKeyId');
  const secretAccessKey = tag(xml, 'SecretAccessKey');
  const sessionToken = tag(xml, 'SessionToken');
  const expiration = tag(xml, 'Expiration');
  if (!accessKeyId || !secretAccessKey || !sessionToken || !expiration) {
    throw new StsError('SerializationException', 'STS AssumeRole: the answer lacks Credentials (AccessKeyId, SecretAccessKey, SessionToken, Expiration)', 200);
  }
  return { accessKeyId, secretAccessKey, sessionToken, expiration: new Date(expiration), assumedRoleArn: tag(xml, 'Arn') ?? '' };
}

export async function getCallerIdentity(opts: StsClientOptions): Promise<{ Account: string; Arn: string; UserId: string }> {
  const xml = await stsCall(opts, 'GetCallerIdentity', {});
  return { Account: tag(xml, 'Account') ?? '', Arn: tag(xml, 'Arn') ?? '', UserId: tag(xml, 'UserId') ?? '' };
}

/**
 * Credentials of a role, assumed on first use and again once less than `refreshBeforeMs` (default
 * 5 minutes) of their lifetime is left; concurrent callers share one AssumeRole call.
 */
export function assumeRoleProvider(
  opts: StsClientOptions,
  input: AssumeRoleInput,
  refreshBeforeMs = 5 * 60_000,
  now: () => number = Date.now,
): () => Promise<AssumedCredentials> {
  let current: AssumedCredentials | undefined;
  let inFlight: Promise<AssumedCredentials> | undefined;
  return () => {
    if (current && current.expiration.getTime() - now() > refreshBeforeMs) return Promise.resolve(current);
    inFlight ??= assumeRole(opts, input)
      .then((c) => (current = c))
      .finally(() => (inFlight = undefined));
    return inFlight;
  };
}

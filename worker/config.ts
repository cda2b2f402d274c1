/**
 * Configuration from the environment, validated once at start with every problem reported at once
 * (t3-env style). Temporal variables follow Temporal's own conventions; AWS uses the SDK's
 * standard credential chain and endpoint variables (AWS_ENDPOINT_URL_SECRETS_MANAGER, ...).
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { DEFAULT_TASK_QUEUE_PREFIX } from '../domain/ids.js';
import { ErrorType, OperatorError } from '../domain/errors.js';
import { issuesToProblems } from '../domain/plan.js';
import { RegionListText } from '../domain/regions.js';
import { PRICES } from '../domain/prices.js';

const optionalText = z.string().trim().min(1).optional();

const EnvSchema = z.object({
  TEMPORAL_ADDRESS: z.string().trim().min(1).default('localhost:7233'),
  TEMPORAL_NAMESPACE: z.string().trim().min(1).default('default'),
  TEMPORAL_API_KEY: optionalText,
  /** Name or ARN of a Secrets Manager secret holding the API key (Lambda, or a host without secret injection). */
  TEMPORAL_API_KEY_SECRET_ID: optionalText,
  TEMPORAL_TLS: z.stringbool().optional(),
  TEMPORAL_TLS_CLIENT_CERT_PATH: optionalText,
  TEMPORAL_TLS_CLIENT_KEY_PATH: optionalText,
  TEMPORAL_TLS_SERVER_CA_CERT_PATH: optionalText,
  TEMPORAL_TLS_SERVER_NAME: optionalText,
  SECRETS_DR_TASK_QUEUE_PREFIX: z.string().trim().regex(/^[A-Za-z0-9_.-]+$/).default(DEFAULT_TASK_QUEUE_PREFIX),
  /** Regions this worker serves (comma-separated); default: every Region of the plan / the lab. */
  SECRETS_DR_REGIONS: RegionListText,
  /** Per-request timeout of AWS calls, ms: a hung Region must not hold an activity for minutes. */
  SECRETS_DR_AWS_TIMEOUT_MS: z.coerce.number().int().min(100).default(15_000),
  /** Worker processes serving the same Region: each one's write governor takes 1/N of writeQuotaShare. */
  SECRETS_DR_WRITERS_PER_REGION: z.coerce
    .number({ error: 'expected a whole number of worker processes per Region, e.g. 2' })
    .int({ error: 'expected a whole number of worker processes per Region, e.g. 2' })
    .min(1, { error: 'at least 1 (unset it when one worker process serves each Region)' })
    .max(50, { error: 'at most 50: each process needs at least 1 write/s of the 50 TPS quota' })
    .default(1),
  /** The worker writes its process id here once it is ready (the local stack waits for it). */
  SECRETS_DR_READY_FILE: optionalText,
  /** The key the receiver checks and `events install` puts into the EventBridge connection. */
  SECRETS_DR_RECEIVER_API_KEY: z.string().min(16, { error: 'the receiver API key must have at least 16 characters' }).optional(),
  /** The receiver's public URL (default of `events install --receiver-url`; `lab up` sets it). */
  SECRETS_DR_RECEIVER_URL: z.url({ error: 'expected a URL such as https://receiver.example.com' }).optional(),
  /** Price of one secret per month in US dollars, for the backups' cost estimate (default: domain/prices.ts). */
  SECRETS_DR_PRICE_SECRET_MONTH: z
    .string()
    .trim()
    .refine((v) => v === '' || (Number.isFinite(Number(v)) && Number(v) >= 0), { error: `must be a number of US dollars ≥ 0, e.g. 0.40; unset it to use $${PRICES.secretPerMonthUsd} (${PRICES.asOf})` })
    .optional(),
});
export type Env = z.infer<typeof EnvSchema>;

export function loadEnv(env: NodeJS.ProcessEnv = process.env): Env {
  const result = EnvSchema.safeParse(env);
  if (result.success) return result.data;
  throw new OperatorError(ErrorType.ConfigInvalid, 'invalid configuration in the environment', issuesToProblems(result.error.issues, env));
}

/**
 * One variable, validated by the schema, read now (for values another part of the process may set later,
 * such as the demo's receiver key); the error names the variable and what it expects.
 */
export function envValue<K extends keyof Env>(name: K, env: NodeJS.ProcessEnv = process.env): Env[K] {
  const result = EnvSchema.shape[name].safeParse(env[name]);
  if (result.success) return result.data as Env[K];
  const issues = result.error.issues.map((i) => ({ ...i, path: [name, ...i.path] }));
  throw new OperatorError(ErrorType.ConfigInvalid, 'invalid configuration in the environment', issuesToProblems(issues, { [name]: env[name] }));
}

export interface TemporalConnectionOptions {
  address: string;
  namespace: string;
  apiKey?: string;
  tls?: boolean | { serverNameOverride?: string; serverRootCACertificate?: Buffer; clientCertPair?: { crt: Buffer; key: Buffer } };
}

function readPem(path: string, variable: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new OperatorError(ErrorType.ConfigInvalid, `${variable}=${path}: cannot read the file (${(err as Error).message})`);
  }
}

export function temporalOptions(env: Env): TemporalConnectionOptions {
  const wantsTls = env.TEMPORAL_TLS ?? Boolean(env.TEMPORAL_API_KEY || env.TEMPORAL_TLS_CLIENT_CERT_PATH || env.TEMPORAL_TLS_SERVER_CA_CERT_PATH);
  let tls: TemporalConnectionOptions['tls'] = false;
  if (wantsTls) {
    const cert = env.TEMPORAL_TLS_CLIENT_CERT_PATH;
    const key = env.TEMPORAL_TLS_CLIENT_KEY_PATH;
    if (Boolean(cert) !== Boolean(key)) {
      throw new OperatorError(ErrorType.ConfigInvalid, 'TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH must be set together');
    }
    tls = {
      ...(env.TEMPORAL_TLS_SERVER_NAME ? { serverNameOverride: env.TEMPORAL_TLS_SERVER_NAME } : {}),
      ...(env.TEMPORAL_TLS_SERVER_CA_CERT_PATH ? { serverRootCACertificate: readPem(env.TEMPORAL_TLS_SERVER_CA_CERT_PATH, 'TEMPORAL_TLS_SERVER_CA_CERT_PATH') } : {}),
      ...(cert && key ? { clientCertPair: { crt: readPem(cert, 'TEMPORAL_TLS_CLIENT_CERT_PATH'), key: readPem(key, 'TEMPORAL_TLS_CLIENT_KEY_PATH') } } : {}),
    };
  }
  return { address: env.TEMPORAL_ADDRESS, namespace: env.TEMPORAL_NAMESPACE, apiKey: env.TEMPORAL_API_KEY, tls };
}

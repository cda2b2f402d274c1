/**
 * Configuration from the environment, validated once at start with every problem reported at once
 * (t3-env style). Temporal variables follow Temporal's own conventions, over an optional Temporal
 * config profile (worker/temporal-profile.ts: environment > profile > default); AWS uses the SDK's
 * standard credential chain and endpoint variables (AWS_ENDPOINT_URL_SECRETS_MANAGER, ...).
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import type { ConfigDataSource } from '@temporalio/envconfig';
import { LOG_FORMATS } from './log.js';
import { loadTemporalProfile } from './temporal-profile.js';
import { DEFAULT_TASK_QUEUE_PREFIX } from '../domain/ids.js';
import { ErrorType, OperatorError } from '../domain/errors.js';
import { issuesToProblems } from '../domain/plan.js';
import { RegionListText } from '../domain/regions.js';
import { PRICES } from '../domain/prices.js';

const optionalText = z.string().trim().min(1).optional();

const EnvSchema = z.object({
  /** Default (after the profile): localhost:7233. */
  TEMPORAL_ADDRESS: optionalText,
  /** Default (after the profile): `default`. */
  TEMPORAL_NAMESPACE: optionalText,
  /** Temporal config profile (TOML) and its file: below the variables here, above the defaults. */
  TEMPORAL_PROFILE: optionalText,
  TEMPORAL_CONFIG_FILE: optionalText,
  TEMPORAL_API_KEY: optionalText,
  /** Name or ARN of a Secrets Manager secret holding the API key (Lambda, or a host without secret injection). */
  TEMPORAL_API_KEY_SECRET_ID: optionalText,
  TEMPORAL_TLS: z.stringbool().optional(),
  TEMPORAL_TLS_CLIENT_CERT_PATH: optionalText,
  TEMPORAL_TLS_CLIENT_KEY_PATH: optionalText,
  TEMPORAL_TLS_SERVER_CA_CERT_PATH: optionalText,
  TEMPORAL_TLS_SERVER_NAME: optionalText,
  SECRETS_DR_TASK_QUEUE_PREFIX: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9_.-]+$/)
    .default(DEFAULT_TASK_QUEUE_PREFIX),
  /** Regions this worker serves (comma-separated); default: every Region of the plan / the lab. */
  SECRETS_DR_REGIONS: RegionListText,
  /** Per-request timeout of AWS calls, ms: a hung Region must not hold an activity for minutes. */
  SECRETS_DR_AWS_TIMEOUT_MS: z.coerce.number().int().min(100).default(15_000),
  /**
   * `worker`: how long a SIGTERM/SIGINT lets the process drain: running activities get half of it, then are cancelled
   * (worker/shutdown.ts); at the limit the process exits anyway (a crash, for Temporal: what is left times out and is
   * retried per its retry policy). 0: exit at once. Empty: the default. A second signal (not the same Ctrl-C repeated
   * within a second) exits at once.
   */
  SECRETS_DR_SHUTDOWN_TIMEOUT_MS: z.preprocess(
    (v) => (typeof v === 'string' && v.trim() === '' ? undefined : v),
    z.coerce.number().int().min(0).default(60_000),
  ),
  /** `0`: decode compressed Temporal payloads but write none (a rolling upgrade; worker/payload-codec.ts). */
  SECRETS_DR_COMPRESS_PAYLOADS: z
    .enum(['0', '1'], { error: 'expected 1 (compress payloads of 4 KiB or more, the default) or 0 (decode only, for a rolling upgrade)' })
    .optional(),
  /** `worker`: serve Prometheus metrics on this port (also `--metrics-port`). */
  SECRETS_DR_METRICS_PORT: z.coerce.number().int().min(1).max(65_535).optional(),
  /** `text` (default) or `json`: one JSON object per log line (worker, receiver, CLI errors). */
  SECRETS_DR_LOG_FORMAT: z.preprocess((v) => (typeof v === 'string' ? v.trim().toLowerCase() : v), z.enum(LOG_FORMATS)).default('text'),
  /** Log level of the worker's and the SDK's lines: TRACE, DEBUG, INFO, WARN or ERROR (any case); unset: the command's default. */
  SECRETS_DR_LOG_LEVEL: z
    .preprocess(
      (v) => (typeof v === 'string' ? v.trim().toUpperCase() : v),
      z.enum(['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR'], { error: 'expected one of TRACE, DEBUG, INFO, WARN, ERROR (unset it for the default)' }),
    )
    .optional(),
  /**
   * Deprecated, ignored: any number of worker processes now share a Region's write quota share through the
   * Region's write lease (worker/region-lease.ts). The worker warns when it is set.
   */
  SECRETS_DR_WRITERS_PER_REGION: optionalText,
  /** The worker writes its process id here once it is ready (the local stack waits for it). */
  SECRETS_DR_READY_FILE: optionalText,
  /** The key the receiver checks and `events install` puts into the EventBridge connection. */
  SECRETS_DR_RECEIVER_API_KEY: z.string().min(16, { error: 'the receiver API key must have at least 16 characters' }).optional(),
  /** The receiver's TLS certificate and key files (PEM; `receiver --tls-cert/--tls-key` win). */
  SECRETS_DR_RECEIVER_TLS_CERT: optionalText,
  SECRETS_DR_RECEIVER_TLS_KEY: optionalText,
  /** The receiver's public URL (default of `events install --receiver-url`; `lab up` sets it). */
  SECRETS_DR_RECEIVER_URL: z.url({ error: 'expected a URL such as https://receiver.example.com' }).optional(),
  /** A JSON price file for cost estimates (`--prices FILE` wins; read by cli/prices-file.ts). */
  SECRETS_DR_PRICES: optionalText,
  /** Price of one secret per month in US dollars, over the price file's (default: domain/prices.ts). */
  SECRETS_DR_PRICE_SECRET_MONTH: z
    .string()
    .trim()
    .refine((v) => v === '' || (Number.isFinite(Number(v)) && Number(v) >= 0), {
      error: `must be a number of US dollars ≥ 0, e.g. 0.40; unset it to use $${PRICES.secretPerMonthUsd} (${PRICES.asOf})`,
    })
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
  /** gRPC metadata from the profile (`grpc_meta`). */
  metadata?: Record<string, string>;
  /** Which profile and file the settings came from, when one was read. */
  origin?: string;
}

/** A PEM from the environment (a path) or the profile (a path or inline data), read now with a clear error. */
function readPem(source: ConfigDataSource, what: string): Buffer {
  if ('data' in source) return Buffer.from(source.data);
  try {
    return readFileSync(source.path);
  } catch (err) {
    throw new OperatorError(ErrorType.ConfigInvalid, `${what}=${source.path}: cannot read the file (${(err as Error).message})`);
  }
}

const fromEnv = (path: string | undefined, variable: string) => (path ? { source: { path } as ConfigDataSource, what: variable } : undefined);
const fromProfile = (source: ConfigDataSource | undefined, key: string) => (source ? { source, what: `profile tls.${key}` } : undefined);

/** Connection settings: each environment variable over the profile's setting over the default. */
export function temporalOptions(env: Env): TemporalConnectionOptions {
  const { profile, origin } = loadTemporalProfile({ file: env.TEMPORAL_CONFIG_FILE, profile: env.TEMPORAL_PROFILE });
  const apiKey = env.TEMPORAL_API_KEY ?? profile.apiKey;
  const p = profile.tls;
  const cert = fromEnv(env.TEMPORAL_TLS_CLIENT_CERT_PATH, 'TEMPORAL_TLS_CLIENT_CERT_PATH') ?? fromProfile(p?.clientCert, 'client_cert');
  const key = fromEnv(env.TEMPORAL_TLS_CLIENT_KEY_PATH, 'TEMPORAL_TLS_CLIENT_KEY_PATH') ?? fromProfile(p?.clientKey, 'client_key');
  const ca = fromEnv(env.TEMPORAL_TLS_SERVER_CA_CERT_PATH, 'TEMPORAL_TLS_SERVER_CA_CERT_PATH') ?? fromProfile(p?.serverCACert, 'server_ca_cert');
  const serverName = env.TEMPORAL_TLS_SERVER_NAME ?? p?.serverName;
  // Explicit on/off first (variable, then the profile's `disabled`); else TLS when anything asks for it (Temporal's rule).
  const wantsTls = env.TEMPORAL_TLS ?? (p?.disabled ? false : undefined) ?? Boolean(p || apiKey || cert || ca);
  let tls: TemporalConnectionOptions['tls'] = false;
  if (wantsTls) {
    if (Boolean(cert) !== Boolean(key)) {
      throw new OperatorError(
        ErrorType.ConfigInvalid,
        `a client certificate needs its key: set TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH together (got only ${(cert ?? key)!.what})`,
      );
    }
    tls = {
      ...(serverName ? { serverNameOverride: serverName } : {}),
      ...(ca ? { serverRootCACertificate: readPem(ca.source, ca.what) } : {}),
      ...(cert && key ? { clientCertPair: { crt: readPem(cert.source, cert.what), key: readPem(key.source, key.what) } } : {}),
    };
  }
  return {
    address: env.TEMPORAL_ADDRESS ?? profile.address ?? 'localhost:7233',
    namespace: env.TEMPORAL_NAMESPACE ?? profile.namespace ?? 'default',
    apiKey,
    tls,
    ...(profile.grpcMeta && Object.keys(profile.grpcMeta).length ? { metadata: profile.grpcMeta } : {}),
    ...(origin ? { origin } : {}),
  };
}

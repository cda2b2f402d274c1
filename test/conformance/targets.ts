/**
 * The two targets of the conformance suite: our lab and a moto server (moto[server]==5.2.3).
 * Every test in `*.conformance.test.ts` runs once per target (see `forEachTarget`). Where a target
 * is known to differ from AWS, the difference lives in QUIRKS below, with a one-line reason; tests
 * consult `target.quirks.<key>` (the reason string, or undefined when the target behaves like AWS)
 * and either skip visibly (`skipFor`) or assert the known difference. Nothing is skipped silently.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { beforeAll, afterAll, beforeEach, describe } from 'vitest';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { cachedTools, ensureTools } from '../../scripts/tools.mjs';
import { startLab } from '../../lab/server.js';

export type TargetName = 'lab' | 'moto';

/** Regions used by the suite: the plan's canonical pair plus a third one. */
export const PRIMARY = 'ap-northeast-1';
export const DR = 'ap-northeast-3';
export const OTHER = 'us-east-1';
export const REGIONS = [PRIMARY, DR, OTHER];

/**
 * Every known difference between a target and AWS (AWS-FACTS.md "moto 5.2.3, where it differs",
 * plus what this suite observed: marked "observed"). Per key: which target has it, and why.
 * "not exercised" = documented only, no test here can observe it (e.g. needs an SQS/Lambda target).
 */
export const QUIRKS = {
  noStopReplicationToReplica: {
    moto: 'moto 5.2.3 has no StopReplicationToReplica (HTTP 500 with an HTML body)',
  },
  noValidateResourcePolicy: {
    moto: 'moto 5.2.3 has no ValidateResourcePolicy (HTTP 500 with an HTML body)',
  },
  replicationSynchronous: {
    moto: 'moto replicates synchronously: the status is InSync in the ReplicateSecretToRegions response, never InProgress',
  },
  replicaKmsKeyIgnored: {
    moto: "moto ignores the replica's KmsKeyId: status entries always say alias/aws/secretsmanager",
  },
  conflictMessageHardcodedName: {
    moto: 'moto\'s conflict StatusMessage names the secret "simple" whatever its name (not asserted: we only match /already exists/i)',
  },
  duplicateStatusEntryOnReReplicate: {
    moto: 'moto appends a second ReplicationStatus entry when replicating to the same Region again (e.g. after a Failed conflict, with ForceOverwriteReplicaSecret)',
  },
  replicateReturnsSecretId: {
    moto: 'moto ReplicateSecretToRegions/RemoveRegionsFromReplication return the SecretId as given in ARN, not the ARN',
  },
  updateVersionStageAllowedOnReplica: {
    moto: "moto does not refuse UpdateSecretVersionStage on a replica (it moves the primary's labels)",
  },
  rotationRulesOnlyDays: {
    moto: 'moto keeps only RotationRules.AutomaticallyAfterDays (ScheduleExpression/Duration dropped)',
  },
  notFoundIsHttp404: {
    moto: 'moto returns ResourceNotFoundException with HTTP 404 (AWS: 400)',
  },
  eventsToDisabledRules: {
    moto: 'moto EventBridge delivers to DISABLED rules (not exercised: needs a delivery target)',
  },
  eventsIgnoreInputTransform: {
    moto: "moto EventBridge ignores a target's Input/InputPath (not exercised: needs a delivery target)",
  },
  putEventsFailsForLambdaSns: {
    moto: 'moto fails the whole PutEvents call when a matching rule targets Lambda/SNS (not exercised)',
  },
  misspelledPatternOperatorAccepted: {
    moto: 'moto PutRule accepts misspelled content-filter operators such as {"prefx": ...} (AWS: InvalidEventPatternException)',
  },
  testEventPatternStub: {
    moto: 'observed: moto 5.2.3 TestEventPattern is a stub (responses.py `test_event_pattern: pass`): HTTP 200, empty body, no Result',
  },
  listVersionIdsArnIsSecretId: {
    moto: 'observed: moto ListSecretVersionIds returns the SecretId as given in ARN (a name when called by name)',
  },
  putValueOnDeletedSecretAllowed: {
    moto: 'observed: moto accepts PutSecretValue on a secret scheduled for deletion and creates a version (AWS: InvalidRequestException)',
  },
  unlabelledVersionsInDescribe: {
    moto: 'observed: moto DescribeSecret lists versions that lost all labels with an empty stage list (AWS lists only labelled versions)',
  },
  getIgnoresMovedCurrent: {
    moto: 'observed: after UpdateSecretVersionStage moves AWSCURRENT, moto GetSecretValue without VersionId/VersionStage still returns the old version (now AWSPREVIOUS); VersionStage=AWSCURRENT returns the right one',
  },
  createOverScheduledDeletionIsResourceExists: {
    moto: 'observed: moto CreateSecret with the name of a secret scheduled for deletion fails with ResourceExistsException (AWS: InvalidRequestException, "already scheduled for deletion")',
  },
  tagKeyNegationSkipsUntagged: {
    moto: 'observed, AWS unverified, not asserted: moto `tag-key: !k` matches only secrets that carry some other tag key; secrets without tags are left out',
  },
  listVersionIdsIgnoresIncludeDeprecated: {
    moto: 'observed: moto ListSecretVersionIds has no IncludeDeprecated (not read in secretsmanager/responses.py): unlabelled versions are always listed',
  },
  rotationNeedsLambdaFunction: {
    moto: 'observed: moto RotateSecret looks the RotationLambdaARN up in its own Lambda backend: ResourceNotFoundException (AWS: AccessDeniedException) unless a moto Lambda exists (and invoking needs Docker)',
  },
  rotateWithoutLambdaBreaksCurrent: {
    moto: 'observed: moto RotateSecret without a Lambda moves AWSCURRENT to a new version that has no value (GetSecretValue then fails with ResourceNotFoundException) and leaves RotationEnabled false',
  },
  putAfterMovedCurrentKeepsOldLabels: {
    moto: 'observed: after UpdateSecretVersionStage moved AWSCURRENT, moto PutSecretValue marks the version current before the move AWSPREVIOUS and leaves the moved-to version with AWSCURRENT and AWSPENDING (recorded on AWS: that version ends with AWSPREVIOUS only)',
  },
  invalidNameAccepted: {
    moto: 'observed: moto CreateSecret/DescribeSecret/GetSecretValue accept names with spaces, `*` or `?` (recorded on AWS: ValidationException "Invalid name. ...")',
  },
  randomPasswordAllExcluded500: {
    moto: 'observed: moto GetRandomPassword with every character type excluded fails with HTTP 500 (HTML body) instead of InvalidParameterException',
  },
} as const satisfies Record<string, Partial<Record<TargetName, string>>>;

export type QuirkKey = keyof typeof QUIRKS;
/** Per target: the reason string for each quirk it has; undefined where it behaves like AWS. */
export type Quirks = { readonly [K in QuirkKey]: string | undefined };

function quirksOf(name: TargetName): Quirks {
  const out: Record<string, string | undefined> = {};
  for (const [key, byTarget] of Object.entries(QUIRKS)) {
    out[key] = (byTarget as Partial<Record<TargetName, string>>)[name];
  }
  return out as Quirks;
}

export interface RunningTarget {
  endpoint: string;
  /** Drops all state (between tests). */
  reset(): Promise<void>;
  stop(): Promise<void>;
}

export interface Target {
  name: TargetName;
  start(): Promise<RunningTarget>;
  quirks: Quirks;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

async function post(url: string): Promise<void> {
  const res = await fetch(url, { method: 'POST' });
  await res.arrayBuffer();
  if (!res.ok) throw new Error(`POST ${url}: HTTP ${res.status}`);
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Children still running in this worker: killed on exit should a teardown never run. */
const children = new Set<ChildProcess>();
let exitHookInstalled = false;
function track(child: ChildProcess): void {
  children.add(child);
  child.once('exit', () => children.delete(child));
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const c of children) c.kill('SIGKILL');
    });
  }
}

function motoPath(): string {
  const cached = cachedTools().moto;
  if (cached) return cached;
  const { moto } = ensureTools({ moto: true });
  if (!moto) throw new Error('moto_server not available: run `node scripts/bootstrap.mjs --tools`');
  return moto;
}

async function startMoto(): Promise<RunningTarget> {
  const bin = motoPath();
  let lastError = '';
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const child = spawn(bin, ['-H', '127.0.0.1', '-p', String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
    track(child);
    let output = '';
    const keep = (b: Buffer) => {
      output = (output + b.toString()).slice(-4000);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    let exited = false;
    child.once('exit', () => {
      exited = true;
    });
    const endpoint = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + 20_000;
    while (!exited && Date.now() < deadline) {
      try {
        const res = await fetch(`${endpoint}/moto-api/`);
        await res.arrayBuffer();
        if (res.ok) {
          return {
            endpoint,
            reset: () => post(`${endpoint}/moto-api/reset`),
            stop: () => stopChild(child),
          };
        }
      } catch {
        // not listening yet
      }
      await sleep(100);
    }
    lastError = output;
    await stopChild(child);
  }
  throw new Error(`moto_server did not start: ${lastError.split('\n').slice(-5).join(' | ')}`);
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

/** Small but non-zero, so InProgress is observable and tests stay fast. */
export const LAB_REPLICATION_LAG_MS = 300;

async function startLabTarget(): Promise<RunningTarget> {
  const lab = await startLab({ port: 0, regions: REGIONS, replicationLagMs: LAB_REPLICATION_LAG_MS });
  const endpoint = lab.url.replace(/\/+$/, '');
  return {
    endpoint,
    reset: () => post(`${endpoint}/_lab/reset`),
    stop: () => lab.close(),
  };
}

const ALL_TARGETS: Target[] = [
  { name: 'lab', start: startLabTarget, quirks: quirksOf('lab') },
  { name: 'moto', start: startMoto, quirks: quirksOf('moto') },
];

/**
 * Both targets by default. CONFORMANCE_TARGETS=lab (or moto) narrows a local run to one of them;
 * the narrowing is printed, so a partial run is never mistaken for a full one.
 */
export const targets: Target[] = (() => {
  const wanted = process.env.CONFORMANCE_TARGETS?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (!wanted || wanted.length === 0) return ALL_TARGETS;
  const picked = ALL_TARGETS.filter((t) => wanted.includes(t.name));
  process.stderr.write(`[conformance] CONFORMANCE_TARGETS=${wanted.join(',')}: running ${picked.map((t) => t.name).join(', ') || 'no target'} only\n`);
  return picked;
})();

/** What a test body gets: clients bound to the running target, unique names. */
export interface Env {
  readonly target: Target;
  readonly endpoint: string;
  sm(region?: string): SecretsManagerClient;
  eb(region?: string): EventBridgeClient;
  /** A name no other test (or target) uses: `cf/<target>/<prefix>/<n>-<random>`. */
  name(prefix: string): string;
}

const CREDENTIALS = { accessKeyId: 'AKIDCONFORMANCE', secretAccessKey: 'conformance-secret' };
let counter = 0;

/**
 * Registers `body` once per target as `conformance [<target>] > <title>`, with a target started once
 * per file (beforeAll), reset before each test, stopped afterwards. Tests run sequentially.
 */
export function forEachTarget(title: string, body: (env: Env) => void): void {
  const rows = targets.map((t): [TargetName, Target] => [t.name, t]);
  describe.sequential.each(rows)(
    `conformance [%s] > ${title}`,
    (_name, target) => {
      let running: RunningTarget | undefined;
      const sms = new Map<string, SecretsManagerClient>();
      const ebs = new Map<string, EventBridgeClient>();
      const need = (): RunningTarget => {
        if (!running) throw new Error(`${target.name} target is not running`);
        return running;
      };
      const env: Env = {
        target,
        get endpoint() {
          return need().endpoint;
        },
        sm(region = PRIMARY) {
          let c = sms.get(region);
          if (!c) {
            c = new SecretsManagerClient({ region, endpoint: need().endpoint, credentials: CREDENTIALS, maxAttempts: 1 });
            sms.set(region, c);
          }
          return c;
        },
        eb(region = PRIMARY) {
          let c = ebs.get(region);
          if (!c) {
            c = new EventBridgeClient({ region, endpoint: need().endpoint, credentials: CREDENTIALS, maxAttempts: 1 });
            ebs.set(region, c);
          }
          return c;
        },
        name(prefix) {
          counter += 1;
          return `cf/${target.name}/${prefix}/${counter}-${Math.random().toString(36).slice(2, 8)}`;
        },
      };
      beforeAll(async () => {
        running = await target.start();
      }, 30_000);
      afterAll(async () => {
        for (const c of sms.values()) c.destroy();
        for (const c of ebs.values()) c.destroy();
        sms.clear();
        ebs.clear();
        await running?.stop();
        running = undefined;
      }, 15_000);
      beforeEach(async () => {
        await need().reset();
      });
      body(env);
    },
    30_000,
  );
}

/** Skips the running test visibly when the target has the quirk: "moto: <reason>". */
export function skipFor(ctx: { skip: (condition: boolean, note?: string) => void }, env: Env, key: QuirkKey): void {
  const reason = env.target.quirks[key];
  if (reason !== undefined) ctx.skip(true, `${env.target.name}: ${reason}`);
}

/** Polls `fn` until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function eventually<T>(what: string, fn: () => Promise<T | undefined>, { timeoutMs = 10_000, intervalMs = 50 } = {}): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    }
    await sleep(intervalMs);
  }
}

/** An AWS SDK error as the tests inspect it. */
export interface AwsError {
  name: string;
  message: string;
  $metadata?: { httpStatusCode?: number };
}

/**
 * Awaits `p`, expecting it to fail with the AWS error `name` (or one of several, where AWS's choice
 * is not documented); returns the error.
 */
export async function expectAwsError(p: Promise<unknown>, name: string | string[], message?: RegExp): Promise<AwsError> {
  const names = typeof name === 'string' ? [name] : name;
  let result: unknown;
  try {
    result = await p;
  } catch (e) {
    const err = e as AwsError;
    if (!names.includes(err.name)) {
      throw new Error(`expected ${names.join(' or ')}, got ${err.name}: ${err.message}`);
    }
    if (message && !message.test(err.message)) {
      throw new Error(`expected ${err.name} message to match ${message}, got: ${err.message}`);
    }
    return err;
  }
  throw new Error(`expected ${names.join(' or ')}, but the call succeeded: ${JSON.stringify(result).slice(0, 300)}`);
}

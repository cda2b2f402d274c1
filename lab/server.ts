/**
 * The lab server: one HTTP port for every Region, speaking the AWS JSON 1.1 protocol, so the
 * real AWS SDK clients (and the AWS CLI) work against it unchanged.
 *
 *   X-Amz-Target: secretsmanager.<Op>  → Secrets Manager emulator
 *   X-Amz-Target: AWSEvents.<Op>       → EventBridge emulator
 *   form-encoded Action=AssumeRole|GetCallerIdentity (no X-Amz-Target) → STS, Query protocol, XML (lab/sts/)
 *   X-Amz-Target: AmazonSSM.<Op>       → SSM Parameter Store, only GetParameter/GetParameters of
 *                                        /aws/reference/secretsmanager/<id>[:stage|:versionId] (lab/ssm/service.ts),
 *                                        read through Secrets Manager's GetSecretValue (its quota and deny faults)
 *   /_lab/...                          → fault injection, seeding, clock, counters, state
 *
 * Accounts (lab/accounts/): the access key chooses the account — `lab<12 digits>` is that account, a key STS
 * issued is its role's account, any other key the default account (LabOptions.accountId, 123456789012). Each
 * account has its own Secrets Manager, EventBridge, Lambda functions and quota buckets; faults are per Region
 * (every account of a Region). Cross-account: replication (lab/secrets-manager/cross-account.ts) and access by
 * ARN to another account's secret, allowed only by its resource policy and key policy (lab/iam/resource-policies.ts,
 * lab/kms/key-policies.ts) on top of the caller's identity policy.
 *
 * The Region and access key come from the SigV4 credential scope (signatures are not verified). Per request:
 * count → outage fault → latency fault → deny fault → IAM policy → fail-next fault → quota bucket → operation
 * (lab/http/aws-handler.ts). With `iamPolicies` (`lab up --iam-policy [AKID=]FILE`) every request is
 * evaluated as IAM does (lab/iam/): a refused one answers 400 AccessDeniedException naming action and resource.
 *
 * Files: lab/http/aws-protocol.ts (wire format), lab/http/aws-handler.ts (the request pipeline),
 * lab/http/admin-routes.ts + lab/http/iam-routes.ts (/_lab/ API), lab/state-file.ts, lab/iam/*.
 *
 * Lab API (JSON in, JSON out; a bad call answers 400 {error}):
 *   GET  /_lab/health                      {ok:true}
 *   GET  /_lab/status                      Regions, faults, secrets per Region, quotas on/off, clock
 *   GET  /_lab/counters                    {region: {op: {calls, throttled, failed}}}  (EventBridge ops as events:<Op>)
 *   GET  /_lab/counters/rate               {region: {group: {calls, maxPerSecond, perSecond}}} (rate-limited groups: arrivals per 1-s window)
 *        both: every account added up; ?accountId=ID one account's (the caller's key's account); ?by=account {accountId: <same shape>}
 *   POST /_lab/counters/reset          {regions?: [..], accounts?: [..]} (default: every Region, every account)
 *   POST /_lab/reset                       all state, faults, counters, quota buckets, clock
 *   GET  /_lab/quotas                      the quota table
 *   POST /_lab/fault/outage                {region, mode?: refuse|error|hang (default error)}
 *   POST /_lab/fault/latency               {region, ms, jitter?}
 *   POST /_lab/fault/replication-lag       {region, ms}          (lag of syncs *into* region)
 *   POST /_lab/fault/replication-pause     {region, paused?=true}
 *   POST /_lab/fault/throttle              {region, group (a quota group or 'all'), tps}
 *   POST /_lab/fault/fail-next             {region, op, count?=1, error?=InternalServiceError, secretIdPrefix?}
 *                                           op 'Replication' fails the next sync into region (status Failed)
 *   POST /_lab/fault/rotation-stall        {region, step?: createSecret|setSecret|testSecret|finishSecret}
 *                                           rotations in region stop before that step (default: their next
 *                                           one); AWSPENDING stays on a non-current version; reattempted on clear
 *   POST /_lab/fault/replica-delete-delay  {region, ms}          (lab ms a replica removed from replication in region lingers; default 3000)
 *   POST /_lab/fault/deny                  {region, op?, error?=AccessDeniedException}  persistent until clear; error one of
 *                                           AccessDeniedException | ExpiredTokenException | UnrecognizedClientException | ThrottlingException
 *                                           (also valid as fail-next errors: then with AWS's texts; lab/incident-errors.ts)
 *   POST /_lab/fault/clear                 {region?}
 *   POST /_lab/lambda                      {region, name, kind?: rotation-single-user|rotation-alternating-users,
 *                                           stepDelayMs? (lab clock, default 50)} → the function (arn
 *                                           arn:aws:lambda:<region>:<account>:function:<name>)
 *   GET  /_lab/lambda?region=              the functions    DELETE /_lab/lambda {region, name}
 *       RotateSecret invokes them: AWS's four steps run after the answer (createSecret, setSecret,
 *       testSecret, finishSecret); an ARN that names no function here answers AccessDeniedException.
 *   POST /_lab/seed                        {region, secrets:[{name, value?|binary?, tags?, description?, kmsKeyId?, replicaRegions?}]}
 *   GET|POST /_lab/clock                   {speed?, advanceMs?}
 *   GET  /_lab/events?region=&source=&detailType=   GET /_lab/deliveries
 *   POST /_lab/inject/health {eventRegion, deliverTo?, statusCode?, eventTypeCode?}   POST /_lab/inject/alarm {region, alarmName, state}
 *   GET  /_lab/iam, GET /_lab/iam/record?accessKeyId=, POST /_lab/iam/record/reset,
 *   POST /_lab/iam/policy {policy, accessKeyId?}, POST /_lab/iam/unbind {accessKeyId?}   (lab/http/iam-routes.ts)
 *   GET|POST /_lab/accounts, POST /_lab/accounts/<id>/revoke|restore, GET|POST /_lab/roles,
 *   GET|POST /_lab/kms/key-policy                                                        (lab/http/account-routes.ts)
 *   POST /_lab/seed and POST /_lab/lambda take an optional accountId (default: the default account).
 */
import { createServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { randomUUID } from 'node:crypto';
import { isKnownRegion, KNOWN_REGIONS } from '../domain/regions.js';
import { ScaledClock } from './clock.js';
import type { LabCore } from './core.js';
import { CallCounters } from './counters.js';
import { AccountDirectory, isAccountId } from './accounts/directory.js';
import { createAccountServices, type AccountServiceDeps, type AccountServices } from './accounts/services.js';
import type { EventBridgeService } from './eventbridge/service.js';
import { FaultRegistry } from './faults.js';
import { createAdminHandler } from './http/admin-routes.js';
import { createAwsHandler } from './http/aws-handler.js';
import { createStsHandler, isStsRequest } from './http/sts-handler.js';
import { sendAwsError } from './http/aws-protocol.js';
import { EVERY_CALLER, IamEnforcer } from './iam/enforcer.js';
import { KmsKeyPolicies } from './kms/key-policies.js';
import type { LambdaFunctions } from './lambda/functions.js';
import { QuotaEnforcer } from './quotas.js';
import type { SecretsManagerService } from './secrets-manager/service.js';
import { LabStateFile } from './state-file.js';

export { SECRETS_MANAGER_QUOTAS, WRITE_TPS, quotaGroupOf, type QuotaGroup } from './quotas.js';

export interface LabOptions {
  /** 0 = a free port (default). */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Regions served; default KNOWN_REGIONS. */
  regions?: string[];
  /** Default 123456789012. */
  accountId?: string;
  /** JSON state file: loaded at start if present, saved (debounced) on changes and on close. */
  statePath?: string;
  /** Default replication lag in real ms; default 300 (small but non-zero, so InProgress is observable). */
  replicationLagMs?: number;
  /** Lab clock speed (rotation schedules, recovery windows); default 1. */
  clockSpeed?: number;
  /** Enforce AWS's request quotas; default true. */
  quotas?: boolean;
  /**
   * How long (lab ms) a replica removed from replication stays visible before it disappears, as on
   * AWS (tens of seconds there); default 3000. 0 = at once, for tests that do not care.
   * `lab fault replica-delete-delay` overrides it per Region; `lab fault clear` restores it.
   */
  replicaDeleteDelayMs?: number;
  /**
   * IAM policies to enforce: `accessKeyId` '*' (or left out) binds every caller, else one access key;
   * several for one key combine. Without any, the lab authorizes nothing (every request passes).
   */
  iamPolicies?: Array<{ accessKeyId?: string; policy: unknown; source?: string }>;
  log?: (line: string) => void;
}

export interface RunningLab {
  url: string;
  port: number;
  regions: readonly string[];
  accountId: string;
  close(): Promise<void>;
  /** All state, faults, counters (same as POST /_lab/reset). */
  reset(): void;
  secretsManager: SecretsManagerService;
  eventBridge: EventBridgeService;
  /** The lab's Lambda functions (rotation functions). */
  functions: LambdaFunctions;
  faults: FaultRegistry;
  counters: CallCounters;
  quotas: QuotaEnforcer;
  clock: ScaledClock;
  /** The IAM policies enforced and the decisions recorded. */
  iam: IamEnforcer;
  /** Access keys → accounts, STS keys, roles, revoked accounts. */
  directory: AccountDirectory;
  /** KMS key policies of every account. */
  kms: KmsKeyPolicies;
  /** The services of an account (built on first use); `secretsManager` etc. above are the default account's. */
  account(accountId: string): AccountServices;
  /** Writes the state file now (no-op without statePath). */
  saveState(): Promise<void>;
}

export async function startLab(opts: LabOptions = {}): Promise<RunningLab> {
  const regions = [...(opts.regions ?? KNOWN_REGIONS)];
  for (const r of regions) if (!isKnownRegion(r)) throw new Error(`unknown Region: ${r}`);
  if (regions.length === 0) throw new Error('the lab needs at least one Region');
  const regionSet = new Set(regions);
  const accountId = opts.accountId ?? '123456789012';
  const log = opts.log ?? (() => undefined);
  const clock = new ScaledClock(opts.clockSpeed ?? 1);
  const faults = new FaultRegistry();
  const counters = new CallCounters(undefined, accountId);
  const quotas = new QuotaEnforcer(opts.quotas ?? true);
  const directory = new AccountDirectory(accountId);
  const kms = new KmsKeyPolicies();
  const iam = new IamEnforcer(accountId, (key) => directory.identityOf(key).arn);
  for (const b of opts.iamPolicies ?? []) iam.bind(b.accessKeyId ?? EVERY_CALLER, b.policy, b.source);
  const stateFile = new LabStateFile(opts.statePath, log);
  const markDirty = stateFile.markDirty;

  const accounts = new Map<string, AccountServices>();
  const accountDeps: AccountServiceDeps = {
    defaultAccountId: accountId,
    regions,
    clock,
    faults,
    quotas,
    iam,
    kms,
    replicationLagMs: opts.replicationLagMs ?? 300,
    ...(opts.replicaDeleteDelayMs !== undefined ? { replicaDeleteDelayMs: opts.replicaDeleteDelayMs } : {}),
    log,
    markDirty,
    peer: (id) => accounts.get(id)?.secretsManager,
    organizationOf: (id) => directory.organizationOf(id),
  };
  const account = (id: string): AccountServices => {
    let a = accounts.get(id);
    if (!a) {
      if (!isAccountId(id)) throw new Error(`account id "${id}" is not 12 digits`);
      a = createAccountServices(id, accountDeps);
      accounts.set(id, a);
    }
    return a;
  };
  const { secretsManager, eventBridge, functions, ssm } = account(accountId);

  stateFile.attach({
    clock,
    secretsManager,
    eventBridge,
    functions,
    accounts: { defaultAccountId: accountId, list: () => [...accounts.values()], get: account, directory, kms },
  });
  stateFile.load();

  const reset = (): void => {
    secretsManager.reset();
    functions.reset();
    eventBridge.reset();
    // The other accounts are dropped: they come back, empty, when a key of theirs calls again.
    for (const [id, a] of accounts) {
      if (id === accountId) continue;
      a.secretsManager.dispose();
      a.eventBridge.reset();
      accounts.delete(id);
    }
    directory.reset();
    kms.reset();
    faults.clear();
    counters.reset();
    quotas.reset();
    iam.resetRecord();
    clock.resetToWallTime(opts.clockSpeed ?? 1);
    markDirty();
  };

  const core: LabCore = {
    regions,
    regionSet,
    accountId,
    directory,
    kms,
    account,
    accounts: () => [...accounts.values()],
    clock,
    faults,
    counters,
    quotas,
    iam,
    secretsManager,
    eventBridge,
    functions,
    ssm,
    log,
    markDirty,
  };
  const handleAws = createAwsHandler(core);
  const handleSts = createStsHandler(core);
  let labUrl = '';
  const handleLab = createAdminHandler(core, {
    url: () => labUrl,
    reset,
    replicationLagMs: opts.replicationLagMs ?? 300,
    ...(opts.statePath ? { statePath: opts.statePath } : {}),
  });

  // ---- HTTP server

  let closed = false;
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8');
      if (req.url?.startsWith('/_lab/')) {
        handleLab(req, res, body);
        return;
      }
      if (isStsRequest(req)) {
        handleSts(req, res, body);
        return;
      }
      if (req.method === 'POST' && req.headers['x-amz-target']) {
        handleAws(req, res, body).catch((e: unknown) => {
          log(`lab: request failed: ${(e as Error).stack ?? String(e)}`);
          if (!res.headersSent) sendAwsError(res, 'InternalServiceError', 'lab bug', 500, randomUUID());
        });
        return;
      }
      const text = JSON.stringify({ error: 'not an AWS JSON request (missing X-Amz-Target) and not a /_lab/ route' });
      res.writeHead(404, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
      res.end(text);
    });
  });
  server.keepAliveTimeout = 30_000;
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.setNoDelay(true);
    s.on('close', () => sockets.delete(s));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const host = opts.host ?? '127.0.0.1';
  labUrl = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  log(`lab: listening on ${labUrl} (${regions.length} Regions, quotas ${quotas.enabled ? 'on' : 'off'})`);

  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    stateFile.stopScheduling();
    faults.close(); // releases hanging requests (their sockets are dropped)
    for (const a of accounts.values()) a.secretsManager.dispose();
    const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const s of sockets) s.destroy();
    await stopped;
    await stateFile.save();
    for (const a of accounts.values()) a.eventBridge.reset(); // stops in-flight deliveries (they belong to an older generation)
  };

  return {
    url: labUrl,
    port,
    regions,
    accountId,
    close,
    reset,
    secretsManager,
    eventBridge,
    functions,
    faults,
    counters,
    quotas,
    clock,
    iam,
    directory,
    kms,
    account,
    saveState: () => stateFile.save(),
  };
}

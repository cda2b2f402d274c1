/**
 * The lab server: one HTTP port for every Region, speaking the AWS JSON 1.1 protocol, so the
 * real AWS SDK clients (and the AWS CLI) work against it unchanged.
 *
 *   X-Amz-Target: secretsmanager.<Op>  → Secrets Manager emulator
 *   X-Amz-Target: AWSEvents.<Op>       → EventBridge emulator
 *   X-Amz-Target: AmazonSSM.<Op>       → SSM Parameter Store, only GetParameter/GetParameters of
 *                                        /aws/reference/secretsmanager/<id>[:stage|:versionId] (lab/ssm/service.ts),
 *                                        read through Secrets Manager's GetSecretValue (its quota and deny faults)
 *   /_lab/...                          → fault injection, seeding, clock, counters, state
 *
 * The Region comes from the SigV4 credential scope (signatures are not verified). Per request:
 * count → outage fault → latency fault → deny fault → fail-next fault → quota bucket → operation.
 *
 * Lab API (JSON in, JSON out; a bad call answers 400 {error}):
 *   GET  /_lab/health                      {ok:true}
 *   GET  /_lab/status                      Regions, faults, secrets per Region, quotas on/off, clock
 *   GET  /_lab/counters                    {region: {op: {calls, throttled, failed}}}  (EventBridge ops as events:<Op>)
 *   POST /_lab/counters/reset          {regions?: [..]} (default: every Region)
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
 */
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { isKnownRegion, KNOWN_REGIONS } from '../domain/regions.js';
import { ScaledClock } from './clock.js';
import { CallCounters } from './counters.js';
import { EventBridgeService, type InjectAlarmInput, type InjectHealthInput } from './eventbridge/service.js';
import { FaultRegistry, OUTAGE_MODES, statusForError, type OutageMode } from './faults.js';
import { LambdaFunctions, LambdaInputError } from './lambda/functions.js';
import { ROTATION_STEPS, type RotationStep } from './secrets-manager/rotation-runner.js';
import { INCIDENT_ERRORS, incidentAnswer, isIncidentError, type IamService, type IncidentAnswer, type IncidentError } from './incident-errors.js';
import { QUOTA_GROUP_NAMES, QuotaEnforcer, SECRETS_MANAGER_QUOTAS } from './quotas.js';
import { SecretsManagerService, type SeedSecret } from './secrets-manager/service.js';
import { SsmService } from './ssm/service.js';
import { LabError, type EmulatedService, type RequestContext } from './types.js';

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
  /** Writes the state file now (no-op without statePath). */
  saveState(): Promise<void>;
}

const JSON_11 = 'application/x-amz-json-1.1';
const CREDENTIAL_RE = /Credential=[^/,\s]+\/\d{8}\/([^/]+)\/([^/]+)\/aws4_request/;

/** Operations that never change state (the state file is not re-written after them). */
const READ_ONLY = /^(Describe|Get|List|BatchGet|Validate|Test)/;

class BadLabRequest extends Error {}

export async function startLab(opts: LabOptions = {}): Promise<RunningLab> {
  const regions = [...(opts.regions ?? KNOWN_REGIONS)];
  for (const r of regions) if (!isKnownRegion(r)) throw new Error(`unknown Region: ${r}`);
  if (regions.length === 0) throw new Error('the lab needs at least one Region');
  const regionSet = new Set(regions);
  const accountId = opts.accountId ?? '123456789012';
  const log = opts.log ?? (() => undefined);
  const clock = new ScaledClock(opts.clockSpeed ?? 1);
  const faults = new FaultRegistry();
  const counters = new CallCounters();
  const quotas = new QuotaEnforcer(opts.quotas ?? true);

  // ---- state file (debounced, async, atomic rename)
  let saveTimer: NodeJS.Timeout | undefined;
  let saving: Promise<void> = Promise.resolve();
  let closed = false;
  const markDirty = (): void => {
    if (!opts.statePath || saveTimer || closed) return;
    saveTimer = setTimeout(() => {
      saveTimer = undefined;
      void saveState();
    }, 250);
    saveTimer.unref();
  };

  const eventBridge = new EventBridgeService({ accountId, regions, clock, log });
  const functions = new LambdaFunctions(accountId, regions, markDirty);
  const secretsManager = new SecretsManagerService({
    functions,
    rotationControl: faults,
    accountId,
    regions,
    clock,
    replicationLagMs: opts.replicationLagMs ?? 300,
    ...(opts.replicaDeleteDelayMs !== undefined ? { replicaDeleteDelayMs: opts.replicaDeleteDelayMs } : {}),
    emit: (ev) => eventBridge.publish(ev),
    control: faults,
    onChange: markDirty,
  });

  // SSM references read through Secrets Manager's GetSecretValue path: its quota, then the operation.
  const ssm = new SsmService((input, ctx) => {
    // Parameter Store honours the caller's Secrets Manager permissions.
    if (faults.anyDenials && faults.deniedWith(ctx.region, 'GetSecretValue') === 'AccessDeniedException') {
      const a = incidentAnswer('AccessDeniedException', 'secretsmanager', 'GetSecretValue', input, ctx, (id) => secretArnOf(id, ctx));
      throw new LabError(a.type, a.message, a.status);
    }
    if (!quotas.admit(ctx.region, 'GetSecretValue', (g) => faults.throttleFor(ctx.region, g))) {
      throw new LabError('ThrottlingException', 'Rate exceeded');
    }
    return secretsManager.handleSync('GetSecretValue', input, ctx) as Record<string, unknown>;
  });

  const saveState = async (): Promise<void> => {
    const path = opts.statePath;
    if (!path) return;
    const body = JSON.stringify({
      version: 1,
      savedAt: new Date().toISOString(),
      clock: { now: clock.now(), speed: clock.speed },
      secretsManager: secretsManager.snapshot(),
      eventBridge: eventBridge.snapshot(),
      lambda: functions.snapshot(),
    });
    saving = saving.then(async () => {
      const tmp = `${path}.${process.pid}.tmp`;
      await writeFile(tmp, body, { mode: 0o600 });
      await rename(tmp, path);
    }).catch((e: unknown) => log(`lab: could not save state to ${path}: ${(e as Error).message}`));
    await saving;
  };

  if (opts.statePath && existsSync(opts.statePath)) {
    const state = JSON.parse(readFileSync(opts.statePath, 'utf8')) as {
      secretsManager?: unknown; eventBridge?: unknown; lambda?: unknown; clock?: { now?: number };
    };
    if (state.secretsManager) secretsManager.restore(state.secretsManager);
    if (state.lambda) functions.restore(state.lambda);
    if (state.eventBridge) eventBridge.restore(state.eventBridge);
    // Lab time never runs backwards across a restart (recovery windows, rotation dates).
    if (typeof state.clock?.now === 'number' && state.clock.now > clock.now()) clock.advance(state.clock.now - clock.now());
    log(`lab: state loaded from ${opts.statePath}`);
  }

  const reset = (): void => {
    secretsManager.reset();
    functions.reset();
    eventBridge.reset();
    faults.clear();
    counters.reset();
    quotas.reset();
    clock.resetToWallTime(opts.clockSpeed ?? 1);
    markDirty();
  };

  // ---- AWS protocol

  const sendJson = (res: ServerResponse, status: number, body: unknown, requestId: string, errorType?: string): void => {
    const text = body === undefined ? '{}' : JSON.stringify(body);
    const headers: Record<string, string | number> = {
      'Content-Type': JSON_11,
      'Content-Length': Buffer.byteLength(text),
      'x-amzn-RequestId': requestId,
    };
    if (errorType) headers['x-amzn-ErrorType'] = errorType;
    res.writeHead(status, headers);
    res.end(text);
  };

  /**
   * An AWS JSON error. Secrets Manager's bodies carry `Message` (recorded); EventBridge's and the
   * front door's (before a service is known) carry `message`.
   */
  const sendAwsError = (res: ServerResponse, type: string, message: string, status: number, requestId: string, capitalMessage = false): void => {
    sendJson(res, status, !message ? { __type: type } : capitalMessage ? { __type: type, Message: message } : { __type: type, message }, requestId, type);
  };

  /** An incident error (deny, fail-next): the credential errors as AWS's front end sends them. */
  const sendIncident = (res: ServerResponse, a: IncidentAnswer, requestId: string, capitalMessage = false): void => {
    if (a.frontEnd) {
      sendJson(res, a.status, { __type: `com.amazon.coral.service#${a.type}`, message: a.message }, requestId, `${a.type}:http://internal.amazon.com/coral/com.amazon.coral.service/`);
    } else {
      sendAwsError(res, a.type, a.message, a.status, requestId, capitalMessage);
    }
  };

  /** The ARN of a secret named `id` in the caller's Region, for AccessDenied messages. */
  const secretArnOf = (id: string, ctx: RequestContext): string | undefined => {
    try {
      return (secretsManager.handleSync('DescribeSecret', { SecretId: id }, ctx) as { ARN?: string }).ARN;
    } catch {
      return undefined;
    }
  };

  const serviceFor = (prefix: string): { service: EmulatedService; counterPrefix: string; iam: IamService } | undefined => {
    if (prefix === 'secretsmanager') return { service: secretsManager, counterPrefix: '', iam: 'secretsmanager' };
    if (prefix === 'AWSEvents') return { service: eventBridge, counterPrefix: 'events:', iam: 'events' };
    if (prefix === 'AmazonSSM') return { service: ssm, counterPrefix: 'ssm:', iam: 'ssm' };
    return undefined;
  };

  const handleAws = async (req: IncomingMessage, res: ServerResponse, body: string): Promise<void> => {
    const requestId = randomUUID();
    const target = String(req.headers['x-amz-target'] ?? '');
    const dot = target.indexOf('.');
    const routed = dot > 0 ? serviceFor(target.slice(0, dot)) : undefined;
    if (!routed) {
      sendAwsError(res, 'UnknownOperationException', `The lab does not serve X-Amz-Target "${target}".`, 400, requestId);
      return;
    }
    const operation = target.slice(dot + 1);
    const sm = routed.service === secretsManager;
    const auth = String(req.headers.authorization ?? '');
    const region = CREDENTIAL_RE.exec(auth)?.[1];
    if (!region) {
      sendAwsError(res, 'MissingAuthenticationTokenException', 'Missing or malformed SigV4 Authorization header: the lab reads the Region from its credential scope.', 400, requestId, sm);
      return;
    }
    if (!regionSet.has(region)) {
      sendAwsError(res, 'UnrecognizedClientException', `The lab does not serve Region ${region} (serving: ${regions.join(', ')}).`, 400, requestId, sm);
      return;
    }
    const counts = counters.call(region, routed.counterPrefix + operation);

    if (faults.hasAny(region)) {
      // Outage (re-checked after a hang is released: the mode may have changed meanwhile).
      for (let mode = faults.outage(region); mode; mode = faults.outage(region)) {
        if (mode === 'refuse') {
          counts.failed++;
          req.socket.destroy();
          return;
        }
        if (mode === 'error') {
          counts.failed++;
          sendAwsError(res, 'ServiceUnavailableException', `Service unavailable in ${region} (lab outage fault).`, 503, requestId, sm);
          return;
        }
        const wait = faults.waitWhileHanging(region);
        const onGone = (): void => wait.cancel();
        req.socket.once('close', onGone);
        const released = await wait.promise;
        req.socket.off('close', onGone);
        if (!released || req.socket.destroyed) {
          counts.failed++;
          req.socket.destroy();
          return;
        }
      }
      const delay = faults.latencyFor(region);
      if (delay > 0) await new Promise((r) => setTimeout(r, delay));
    }

    let input: Record<string, unknown>;
    try {
      const parsed: unknown = body.length === 0 ? {} : JSON.parse(body);
      if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not an object');
      input = parsed as Record<string, unknown>;
    } catch {
      counts.failed++;
      sendAwsError(res, 'SerializationException', 'The request body is not a JSON object.', 400, requestId, sm);
      return;
    }

    const ctx: RequestContext = { region, accountId, requestId, clock };
    if (faults.anyDenials) {
      const denied = faults.deniedWith(region, operation, routed.counterPrefix + operation);
      if (denied) {
        counts.failed++;
        sendIncident(res, incidentAnswer(denied, routed.iam, operation, input, ctx, (id) => secretArnOf(id, ctx)), requestId, sm);
        return;
      }
    }

    if (faults.hasAny(region)) {
      const sid = typeof input.SecretId === 'string' ? input.SecretId : typeof input.Name === 'string' ? input.Name : undefined;
      const injected = faults.takeFailNext(region, operation, sid)
        ?? (routed.counterPrefix ? faults.takeFailNext(region, routed.counterPrefix + operation, sid) : undefined);
      if (injected) {
        counts.failed++;
        if (isIncidentError(injected)) sendIncident(res, incidentAnswer(injected, routed.iam, operation, input, ctx, (id) => secretArnOf(id, ctx)), requestId, sm);
        else sendAwsError(res, injected, `Injected fault: ${injected} (fail-next ${operation} in ${region}).`, statusForError(injected), requestId, sm);
        return;
      }
    }

    if (routed.service === secretsManager && !quotas.admit(region, operation, (g) => faults.throttleFor(region, g))) {
      counts.throttled++;
      sendAwsError(res, 'ThrottlingException', 'Rate exceeded', 400, requestId, sm);
      return;
    }

    try {
      const out = routed.service === secretsManager
        ? secretsManager.handleSync(operation, input, ctx)
        : await routed.service.handle(operation, input, ctx);
      if (!READ_ONLY.test(operation)) markDirty();
      sendJson(res, 200, out, requestId);
    } catch (e) {
      counts.failed++;
      if (e instanceof LabError) {
        sendAwsError(res, e.type, e.message, e.status, requestId, sm);
      } else {
        log(`lab: ${target} in ${region} failed: ${(e as Error).stack ?? String(e)}`);
        sendAwsError(res, 'InternalServiceError', 'An error occurred on the server side (lab bug).', 500, requestId, sm);
      }
    }
  };

  // ---- /_lab/ API

  const requireRegion = (body: Record<string, unknown>): string => {
    const r = body.region;
    if (typeof r !== 'string' || !regionSet.has(r)) throw new BadLabRequest(`"region" must be one of the lab's Regions (${regions.join(', ')})`);
    return r;
  };
  const num = (body: Record<string, unknown>, key: string, required: boolean): number | undefined => {
    const v = body[key];
    if (v === undefined && !required) return undefined;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new BadLabRequest(`"${key}" must be a non-negative number`);
    return v;
  };

  const labRoutes: Record<string, (body: Record<string, unknown>, query: URLSearchParams) => unknown> = {
    'GET /_lab/health': () => ({ ok: true }),
    'GET /_lab/status': () => ({
      ok: true,
      url: labUrl,
      accountId,
      regions,
      quotas: quotas.enabled,
      replicationLagMs: opts.replicationLagMs ?? 300,
      clock: { now: new Date(clock.now()).toISOString(), speed: clock.speed },
      faults: faults.describe(),
      hangingRequests: faults.hangingRequests,
      secrets: secretsManager.counts(),
      pendingReplications: secretsManager.pendingReplications,
      lambdaFunctions: functions.list().length,
      rotations: secretsManager.rotationsInFlight(),
      pendingReplicaRemovals: secretsManager.pendingReplicaRemovals,
      statePath: opts.statePath ?? null,
    }),
    'GET /_lab/counters': () => counters.snapshot(),
    'POST /_lab/counters/reset': (b) => {
      if (b.regions !== undefined && (!Array.isArray(b.regions) || !b.regions.every((r) => typeof r === 'string'))) {
        throw new BadLabRequest('"regions" must be a list of Region names');
      }
      counters.reset(b.regions as string[] | undefined);
      return { ok: true };
    },
    'POST /_lab/reset': () => {
      reset();
      return { ok: true };
    },
    'GET /_lab/quotas': () => ({ enabled: quotas.enabled, groups: SECRETS_MANAGER_QUOTAS }),
    'POST /_lab/fault/outage': (b) => {
      const region = requireRegion(b);
      const mode = (b.mode ?? 'error') as OutageMode;
      if (!OUTAGE_MODES.includes(mode)) throw new BadLabRequest(`"mode" must be one of ${OUTAGE_MODES.join(', ')}`);
      faults.setOutage(region, mode);
      log(`lab: outage (${mode}) in ${region}`);
      return { ok: true, region, mode };
    },
    'POST /_lab/fault/latency': (b) => {
      const region = requireRegion(b);
      faults.setLatency(region, num(b, 'ms', true)!, num(b, 'jitter', false) ?? 0);
      return { ok: true };
    },
    'POST /_lab/fault/replication-lag': (b) => {
      faults.setReplicationLag(requireRegion(b), num(b, 'ms', true)!);
      return { ok: true };
    },
    'POST /_lab/fault/replication-pause': (b) => {
      faults.setReplicationPause(requireRegion(b), b.paused !== false);
      return { ok: true };
    },
    'POST /_lab/fault/throttle': (b) => {
      const region = requireRegion(b);
      const group = typeof b.group === 'string' ? b.group : 'write';
      if (group !== 'all' && !QUOTA_GROUP_NAMES.includes(group)) {
        throw new BadLabRequest(`"group" must be one of ${[...QUOTA_GROUP_NAMES, 'all'].join(', ')}`);
      }
      const tps = num(b, 'tps', true)!;
      if (tps <= 0) throw new BadLabRequest('"tps" must be > 0');
      faults.setThrottle(region, group, tps);
      return { ok: true };
    },
    'POST /_lab/fault/fail-next': (b) => {
      const region = requireRegion(b);
      if (typeof b.op !== 'string' || b.op === '') throw new BadLabRequest('"op" is required (e.g. PutSecretValue, events:PutEvents, Replication)');
      const count = num(b, 'count', false) ?? 1;
      if (!Number.isInteger(count) || count < 1) throw new BadLabRequest('"count" must be a positive integer');
      if (b.error !== undefined && (typeof b.error !== 'string' || !/^[A-Za-z]+$/.test(b.error))) throw new BadLabRequest('"error" must be an error type name');
      if (b.secretIdPrefix !== undefined && typeof b.secretIdPrefix !== 'string') throw new BadLabRequest('"secretIdPrefix" must be a string');
      faults.addFailNext(region, {
        op: b.op,
        count,
        ...(typeof b.error === 'string' ? { error: b.error } : {}),
        ...(typeof b.secretIdPrefix === 'string' ? { secretIdPrefix: b.secretIdPrefix } : {}),
      });
      return { ok: true };
    },
    'POST /_lab/fault/rotation-stall': (b) => {
      const region = requireRegion(b);
      if (b.step !== undefined && !(ROTATION_STEPS as readonly unknown[]).includes(b.step)) {
        throw new BadLabRequest(`"step" must be one of ${ROTATION_STEPS.join(', ')} (or left out: before the next step)`);
      }
      faults.setRotationStall(region, b.step as RotationStep | undefined);
      log(`lab: rotation-stall in ${region}${b.step ? ` before ${String(b.step)}` : ''}`);
      return { ok: true, region, step: b.step ?? 'next' };
    },
    'POST /_lab/lambda': (b) => {
      if (b.stepDelayMs !== undefined) num(b, 'stepDelayMs', true);
      try {
        return functions.create(b as unknown as Parameters<LambdaFunctions['create']>[0]);
      } catch (e) {
        if (e instanceof LambdaInputError) throw new BadLabRequest(e.message);
        throw e;
      }
    },
    'GET /_lab/lambda': (_b, q) => {
      const region = q.get('region') ?? undefined;
      if (region !== undefined && !regionSet.has(region)) throw new BadLabRequest(`"region" must be one of the lab's Regions (${regions.join(', ')})`);
      return { functions: functions.list(region) };
    },
    'DELETE /_lab/lambda': (b, q) => {
      const region = requireRegion({ region: b.region ?? q.get('region') ?? undefined });
      const name = b.name ?? q.get('name');
      if (typeof name !== 'string' || name === '') throw new BadLabRequest('"name" is required');
      if (!functions.delete(region, name)) throw new BadLabRequest(`no function ${name} in ${region}`);
      return { ok: true, region, name };
    },
    'POST /_lab/fault/replica-delete-delay': (b) => {
      const region = requireRegion(b);
      faults.setReplicaDeleteDelay(region, num(b, 'ms', true)!);
      return { ok: true, region, ms: b.ms };
    },
    'POST /_lab/fault/deny': (b) => {
      const region = requireRegion(b);
      if (b.op !== undefined && (typeof b.op !== 'string' || b.op === '')) throw new BadLabRequest('"op" must be an operation name (e.g. GetSecretValue, events:PutEvents, ssm:GetParameter), or left out for every operation');
      const error = (b.error ?? 'AccessDeniedException') as IncidentError;
      if (!isIncidentError(error)) throw new BadLabRequest(`"error" must be one of ${INCIDENT_ERRORS.join(', ')}`);
      faults.setDeny(region, { ...(typeof b.op === 'string' ? { op: b.op } : {}), error });
      log(`lab: deny ${typeof b.op === 'string' ? b.op : 'every operation'} in ${region} with ${error}`);
      return { ok: true, region, op: b.op ?? null, error };
    },
    'POST /_lab/fault/clear': (b) => {
      if (b.region !== undefined) faults.clear(requireRegion(b));
      else faults.clear();
      return { ok: true };
    },
    'POST /_lab/seed': (b) => {
      const region = requireRegion(b);
      if (!Array.isArray(b.secrets)) throw new BadLabRequest('"secrets" must be a list of {name, value?|binary?, tags?, description?, replicaRegions?}');
      try {
        return secretsManager.seed(region, b.secrets as SeedSecret[]);
      } catch (e) {
        if (e instanceof LabError) throw new BadLabRequest(`${e.type}: ${e.message}`);
        throw e;
      }
    },
    'GET /_lab/clock': () => ({ now: new Date(clock.now()).toISOString(), nowMs: clock.now(), speed: clock.speed }),
    'POST /_lab/clock': (b) => {
      const speed = num(b, 'speed', false);
      const advance = num(b, 'advanceMs', false);
      if (speed !== undefined) {
        if (speed <= 0) throw new BadLabRequest('"speed" must be > 0');
        clock.setSpeed(speed);
      }
      if (advance !== undefined) clock.advance(advance);
      secretsManager.runSchedules();
      return { now: new Date(clock.now()).toISOString(), nowMs: clock.now(), speed: clock.speed };
    },
    'GET /_lab/events': (_b, q) => {
      const filter: { region?: string; source?: string; detailType?: string } = {};
      for (const k of ['region', 'source', 'detailType'] as const) {
        const v = q.get(k);
        if (v) filter[k] = v;
      }
      return eventBridge.eventLog(filter);
    },
    'GET /_lab/deliveries': () => eventBridge.deliveries(),
    'POST /_lab/inject/health': (b) => {
      if (typeof b.eventRegion !== 'string') throw new BadLabRequest('"eventRegion" is required');
      eventBridge.injectHealth(b as unknown as InjectHealthInput);
      return { ok: true };
    },
    'POST /_lab/inject/alarm': (b) => {
      const region = requireRegion(b);
      if (typeof b.alarmName !== 'string' || (b.state !== 'ALARM' && b.state !== 'OK' && b.state !== 'INSUFFICIENT_DATA')) {
        throw new BadLabRequest('"alarmName" and "state" (ALARM|OK|INSUFFICIENT_DATA) are required');
      }
      eventBridge.injectAlarm({ ...b, region } as unknown as InjectAlarmInput);
      return { ok: true };
    },
  };

  const handleLab = (req: IncomingMessage, res: ServerResponse, body: string): void => {
    const url = new URL(req.url ?? '/', 'http://lab');
    const route = labRoutes[`${req.method} ${url.pathname.replace(/\/+$/, '')}`];
    const send = (status: number, payload: unknown): void => {
      const text = JSON.stringify(payload);
      res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
      res.end(text);
    };
    if (!route) {
      send(404, { error: `no lab route ${req.method} ${url.pathname}` });
      return;
    }
    try {
      let parsed: unknown = {};
      if (body.trim().length > 0) {
        try {
          parsed = JSON.parse(body);
        } catch {
          throw new BadLabRequest('the body must be JSON');
        }
      }
      if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new BadLabRequest('the body must be a JSON object');
      const out = route(parsed as Record<string, unknown>, url.searchParams);
      if (req.method === 'POST' || req.method === 'DELETE') markDirty();
      send(200, out);
    } catch (e) {
      if (e instanceof BadLabRequest || e instanceof RangeError) send(400, { error: e.message });
      else {
        log(`lab: ${req.method} ${url.pathname} failed: ${(e as Error).stack ?? String(e)}`);
        send(400, { error: (e as Error).message });
      }
    }
  };

  // ---- HTTP server

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
  const labUrl = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  log(`lab: listening on ${labUrl} (${regions.length} Regions, quotas ${quotas.enabled ? 'on' : 'off'})`);

  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    if (saveTimer) clearTimeout(saveTimer);
    saveTimer = undefined;
    faults.close(); // releases hanging requests (their sockets are dropped)
    secretsManager.dispose();
    const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const s of sockets) s.destroy();
    await stopped;
    await saveState();
    eventBridge.reset(); // stops in-flight deliveries (they belong to an older generation)
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
    saveState,
  };
}

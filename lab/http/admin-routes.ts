/**
 * The lab's own API under /_lab/ (faults, seeding, clock, counters, IAM, events): JSON in, JSON
 * out; a bad call answers 400 {error}. The routes are listed in lab/server.ts's header.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { LabCore } from '../core.js';
import type { InjectAlarmInput, InjectHealthInput } from '../eventbridge/service.js';
import { OUTAGE_MODES, type OutageMode } from '../faults.js';
import { iamRoutes } from './iam-routes.js';
import { BadLabRequest, type LabRoutes } from './lab-request.js';
import { INCIDENT_ERRORS, isIncidentError, type IncidentError } from '../incident-errors.js';
import { LambdaInputError, type LambdaFunctions } from '../lambda/functions.js';
import { QUOTA_GROUP_NAMES, SECRETS_MANAGER_QUOTAS } from '../quotas.js';
import { ROTATION_STEPS, type RotationStep } from '../secrets-manager/rotation-runner.js';
import type { SeedSecret } from '../secrets-manager/service.js';
import { LabError } from '../types.js';

export interface AdminDeps {
  url(): string;
  reset(): void;
  replicationLagMs: number;
  statePath?: string;
}

export function createAdminHandler(core: LabCore, deps: AdminDeps): (req: IncomingMessage, res: ServerResponse, body: string) => void {
  const { regions, regionSet, accountId, clock, faults, counters, quotas, iam, secretsManager, eventBridge, functions, log, markDirty } = core;

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

  const labRoutes: LabRoutes = {
    ...iamRoutes(core),
    'GET /_lab/health': () => ({ ok: true }),
    'GET /_lab/status': () => ({
      ok: true,
      url: deps.url(),
      accountId,
      regions,
      quotas: quotas.enabled,
      replicationLagMs: deps.replicationLagMs,
      clock: { now: new Date(clock.now()).toISOString(), speed: clock.speed },
      faults: faults.describe(),
      hangingRequests: faults.hangingRequests,
      secrets: secretsManager.counts(),
      pendingReplications: secretsManager.pendingReplications,
      lambdaFunctions: functions.list().length,
      rotations: secretsManager.rotationsInFlight(),
      pendingReplicaRemovals: secretsManager.pendingReplicaRemovals,
      statePath: deps.statePath ?? null,
      iam: iam.describe(),
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
      deps.reset();
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

  return (req: IncomingMessage, res: ServerResponse, body: string): void => {
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
}

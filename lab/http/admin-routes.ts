/**
 * The lab's own API under /_lab/ (faults, seeding, clock, counters, IAM, events): JSON in, JSON
 * out; a bad call answers 400 {error}. The routes are listed in lab/server.ts's header.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { LabCore } from '../core.js';
import type { InjectAlarmInput, InjectHealthInput } from '../eventbridge/service.js';
import { faultRoutes } from './fault-routes.js';
import { iamRoutes } from './iam-routes.js';
import { accountPathRoute, accountRoutes } from './account-routes.js';
import { isAccountId } from '../accounts/directory.js';
import { BadLabRequest, labArgs, type LabRoutes } from './lab-request.js';
import { LambdaInputError, type LambdaFunctions } from '../lambda/functions.js';
import { SECRETS_MANAGER_QUOTAS } from '../quotas.js';
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

  const { requireRegion, num } = labArgs(regions, regionSet);
  /** `accountId` of a seeding route (default: the lab's default account). */
  const seedAccount = (b: Record<string, unknown>) => {
    if (b.accountId === undefined) return core.account(accountId);
    if (!isAccountId(b.accountId)) throw new BadLabRequest('"accountId" must be a 12-digit AWS account id');
    return core.account(b.accountId);
  };

  /** `?by=account` (or nothing): the view of the counters asked for. */
  const countersView = (q: URLSearchParams): 'by-account' | 'by-region' => {
    const by = q.get('by');
    if (by === null || by === 'region') return 'by-region';
    if (by === 'account') return 'by-account';
    throw new BadLabRequest(`"by" must be "region" (the default) or "account", not "${by}"`);
  };
  /** `?accountId=ID`: one account's counters (undefined: every account's). */
  const countersAccount = (q: URLSearchParams): string | undefined => {
    const id = q.get('accountId');
    if (id === null) return undefined;
    if (!isAccountId(id)) throw new BadLabRequest(`"accountId" must be a 12-digit AWS account id, not "${id}"`);
    return id;
  };

  const labRoutes: LabRoutes = {
    ...iamRoutes(core),
    ...faultRoutes(core),
    ...accountRoutes(core),
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
      accounts: core.accounts().map((a) => ({ accountId: a.accountId, secrets: a.secretsManager.counts(), revoked: core.directory.isRevoked(a.accountId) })),
    }),
    // Per Region, every account added up (the shape callers had before the lab had accounts); `?accountId=ID`: one
    // account's calls (the caller's key's account); `?by=account`: `{ [accountId]: <the per-Region shape> }`.
    'GET /_lab/counters': (_b, q) => (countersView(q) === 'by-account' ? counters.snapshotByAccount() : counters.snapshot(countersAccount(q))),
    'GET /_lab/counters/rate': (_b, q) => (countersView(q) === 'by-account' ? counters.ratesByAccount() : counters.rates(undefined, countersAccount(q))),
    'POST /_lab/counters/reset': (b) => {
      if (b.regions !== undefined && (!Array.isArray(b.regions) || !b.regions.every((r) => typeof r === 'string'))) {
        throw new BadLabRequest('"regions" must be a list of Region names');
      }
      if (b.accounts !== undefined && (!Array.isArray(b.accounts) || !b.accounts.every(isAccountId))) {
        throw new BadLabRequest('"accounts" must be a list of 12-digit AWS account ids');
      }
      counters.reset(b.regions as string[] | undefined, b.accounts as string[] | undefined);
      return { ok: true };
    },
    'POST /_lab/reset': () => {
      deps.reset();
      return { ok: true };
    },
    'GET /_lab/quotas': () => ({ enabled: quotas.enabled, groups: SECRETS_MANAGER_QUOTAS }),
    'POST /_lab/lambda': (b) => {
      if (b.stepDelayMs !== undefined) num(b, 'stepDelayMs', true);
      try {
        const { accountId: _a, ...spec } = b;
        return seedAccount(b).functions.create(spec as unknown as Parameters<LambdaFunctions['create']>[0]);
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
    'POST /_lab/seed': (b) => {
      const region = requireRegion(b);
      if (!Array.isArray(b.secrets)) throw new BadLabRequest('"secrets" must be a list of {name, value?|binary?, tags?, description?, replicaRegions?}');
      try {
        return seedAccount(b).secretsManager.seed(region, b.secrets as SeedSecret[]);
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
    const byAccount = accountPathRoute(url.pathname.replace(/\/+$/, ''));
    if (byAccount) url.searchParams.set('accountId', byAccount.accountId);
    const route = labRoutes[`${req.method} ${byAccount?.path ?? url.pathname.replace(/\/+$/, '')}`];
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

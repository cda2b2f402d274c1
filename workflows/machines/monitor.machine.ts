/**
 * Health of one Region (the monitor runs one per plan Region): pure decisions, no effects.
 *
 *   healthy ⇄ degraded        reasons from replication / parity / rotation / fence findings
 *      │          │           (lag and missing replicas only after `unhealthyAfter` cycles in a row)
 *      └──► unhealthy ◄──┘    after `unhealthyAfter` consecutive failed probes (hysteresis);
 *                             back after as many consecutive good probes
 *
 * Every change of state, or of the set of reason codes while degraded, enqueues ONE `announce`
 * (→ a `Health Changed` event); a primary turning unhealthy also enqueues `requestRecovery` when
 * the plan allows automatic failover. Counts inside reasons may change without an announcement.
 */
import { and, assign, setup } from 'xstate';
import type { HealthReason, HealthState, RegionHealth, RegionObservation } from '../../domain/health.js';
import { PERSISTENT_ONLY } from '../../domain/health.js';

interface RegionHealthInput {
  region: string;
  unhealthyAfter: number;
  /** Primary Region of a plan with failover.automatic: turning unhealthy asks for recovery. */
  recoverOnUnhealthy: boolean;
  at: string;
}

interface RegionHealthContext extends RegionHealth {
  unhealthyAfter: number;
  recoverOnUnhealthy: boolean;
}

export type RegionHealthEvent = { type: 'PROBED'; at: string; observation: RegionObservation };

export interface AnnounceParams {
  region: string;
  from: HealthState;
  to: HealthState;
  reasons: HealthReason[];
}

const codes = (rs: readonly HealthReason[]) =>
  rs
    .map((r) => r.code)
    .sort()
    .join(',');

/** The streaks after this observation (unchanged when nothing could be assessed). */
function nextStreaks(ctx: RegionHealthContext, obs: RegionObservation): Record<string, number> {
  if (!obs.reachable || obs.findings === undefined) return ctx.streaks;
  const out: Record<string, number> = {};
  for (const f of obs.findings) out[f.code] = (ctx.streaks[f.code] ?? 0) + 1;
  return out;
}

/** Reasons after this observation: findings, transient ones only once they persisted. */
function nextReasons(ctx: RegionHealthContext, obs: RegionObservation): HealthReason[] {
  if (!obs.reachable) return ctx.reasons;
  if (obs.findings === undefined) return ctx.reasons.filter((r) => r.code !== 'unreachable');
  const streaks = nextStreaks(ctx, obs);
  return obs.findings.filter((f) => !PERSISTENT_ONLY.includes(f.code) || (streaks[f.code] ?? 0) >= ctx.unhealthyAfter);
}

const failed = (e: RegionHealthEvent) => !e.observation.reachable;

const healthSetup = setup({
  types: {
    context: {} as RegionHealthContext,
    events: {} as RegionHealthEvent,
    input: {} as RegionHealthInput,
  },
  guards: {
    turnsUnhealthy: ({ context, event }) => failed(event) && context.failures + 1 >= context.unhealthyAfter,
    hasReasons: ({ context, event }) => !failed(event) && nextReasons(context, event.observation).length > 0,
    isClear: ({ context, event }) => !failed(event) && nextReasons(context, event.observation).length === 0,
    reasonsChanged: ({ context, event }) => !failed(event) && codes(nextReasons(context, event.observation)) !== codes(context.reasons),
    recovered: ({ context, event }) => !failed(event) && context.successes + 1 >= context.unhealthyAfter,
  },
  actions: {
    /** Counts the probe, updates streaks and reasons, and moves `state` when `to` is given. */
    observe: assign(({ context, event }, params: { to?: HealthState } | undefined) => {
      const obs = event.observation;
      const to = params?.to;
      const ok = obs.reachable;
      const failures = ok ? 0 : context.failures + 1;
      let reasons = nextReasons(context, obs);
      if (to === 'unhealthy') reasons = [{ code: 'unreachable', message: `${failures} consecutive failed probes: ${obs.error ?? 'no answer'}` }];
      return {
        failures,
        successes: ok ? context.successes + 1 : 0,
        streaks: nextStreaks(context, obs),
        reasons,
        lastProbeAt: event.at,
        latencyMs: obs.latencyMs,
        error: ok ? undefined : obs.error,
        ...(to ? { previous: context.state, state: to, since: event.at } : {}),
      };
    }),
    announce: (_, _params: AnnounceParams) => undefined,
    requestRecovery: (_, _params: { region: string; reason: string }) => undefined,
  },
});

// Entry actions decide with the updated context (after `observe`); the initial entry announces nothing.
const announceChange = healthSetup.enqueueActions(({ context, enqueue }) => {
  if (context.previous === undefined) return;
  enqueue({ type: 'announce', params: { region: context.region, from: context.previous, to: context.state, reasons: context.reasons } });
});
const maybeRequestRecovery = healthSetup.enqueueActions(({ context, enqueue }) => {
  if (!context.recoverOnUnhealthy) return;
  enqueue({ type: 'requestRecovery', params: { region: context.region, reason: context.reasons[0]?.message ?? 'unhealthy' } });
});

export const regionHealthMachine = healthSetup.createMachine({
  id: 'regionHealth',
  context: ({ input }) => ({
    region: input.region,
    state: 'healthy',
    failures: 0,
    successes: 0,
    streaks: {},
    reasons: [],
    since: input.at,
    unhealthyAfter: input.unhealthyAfter,
    recoverOnUnhealthy: input.recoverOnUnhealthy,
  }),
  initial: 'healthy',
  states: {
    healthy: {
      entry: announceChange,
      on: {
        PROBED: [
          { guard: 'turnsUnhealthy', target: 'unhealthy', actions: { type: 'observe', params: { to: 'unhealthy' } } },
          { guard: 'hasReasons', target: 'degraded', actions: { type: 'observe', params: { to: 'degraded' } } },
          { actions: { type: 'observe', params: {} } },
        ],
      },
    },
    degraded: {
      entry: announceChange,
      on: {
        PROBED: [
          { guard: 'turnsUnhealthy', target: 'unhealthy', actions: { type: 'observe', params: { to: 'unhealthy' } } },
          { guard: 'isClear', target: 'healthy', actions: { type: 'observe', params: { to: 'healthy' } } },
          { guard: 'reasonsChanged', target: 'degraded', reenter: true, actions: { type: 'observe', params: { to: 'degraded' } } },
          { actions: { type: 'observe', params: {} } },
        ],
      },
    },
    unhealthy: {
      entry: [announceChange, maybeRequestRecovery],
      on: {
        PROBED: [
          { guard: and(['recovered', 'hasReasons']), target: 'degraded', actions: { type: 'observe', params: { to: 'degraded' } } },
          { guard: 'recovered', target: 'healthy', actions: { type: 'observe', params: { to: 'healthy' } } },
          { actions: { type: 'observe', params: {} } },
        ],
      },
    },
  },
});

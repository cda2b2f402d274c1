import { describe, expect, it } from 'vitest';
import { MockActivityEnvironment } from '@temporalio/testing';
import { ApplicationFailure } from '@temporalio/common';
import { createFailoverActivities } from '../../activities/failover.activities.js';
import type { RegionClients } from '../../activities/clients.js';
import { ErrorType, NON_RETRYABLE_ERROR_TYPES } from '../../domain/errors.js';
import type { Plan } from '../../domain/plan.js';

/** Clients of ap-northeast-3 that must never be called: a misrouted activity stops before any AWS call. */
const untouchable = new Proxy({}, { get: (_, op) => () => Promise.reject(new Error(`AWS called (${String(op)}) by a misrouted activity`)) });
const clients = { region: 'ap-northeast-3', secretsManager: untouchable, eventBridge: untouchable } as unknown as RegionClients;

describe('a routing bug (an activity for one Region on the worker of another)', () => {
  it('fails at once, non-retryable, typed RoutingBug, before any AWS call', async () => {
    // Prepare
    const acts = createFailoverActivities(clients);
    const env = new MockActivityEnvironment();
    // Act
    const err = await env.run(() => acts.inspectFleet({ plan: { name: 'p' } as Plan, region: 'ap-northeast-1' })).catch((e: unknown) => e);
    // Assess
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect((err as ApplicationFailure).nonRetryable).toBe(true);
    expect((err as ApplicationFailure).type).toBe(ErrorType.RoutingBug);
    expect((err as Error).message).toMatch(/inspectFleet for ap-northeast-1 reached the worker of ap-northeast-3/);
    expect(NON_RETRYABLE_ERROR_TYPES).toContain(ErrorType.RoutingBug);
  });
});

/**
 * Chaos: SIGKILL the worker in the middle of account setup — after a random number (seeded) of
 * AssociateCrossAccountReplica calls — and let a new worker finish it. Afterwards every plan secret
 * has exactly one cross-account replica in the recovery account, InSync, holding the primary's
 * value; no replica was created twice (CreateSecret is idempotent by its ClientRequestToken) and
 * the re-sent associations stay bounded by one batch. Then the same for account failover, killed
 * after a random number of promotions: every primary fenced, every replica standalone, each promoted once.
 */
import { randomBytes } from 'node:crypto';
import { GetResourcePolicyCommand } from '@aws-sdk/client-secrets-manager';
import { FENCE_SID } from '../../domain/failover.js';
import { hasStatement } from '../../domain/failback.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { workflowTaskQueue } from '../../domain/ids.js';
import { accountFailoverWorkflowId, accountSetupWorkflowId } from '../../domain/account-dr.js';
import { eventually, LAB_ONLY, onAws, startHarness, type Harness } from '../support/integration.js';
import { accountFixtures, LAB_DEFAULT, RECOVERY, keyOf } from '../support/accounts.js';
import { chaosSeeds, prng, requireBuilt, spawnWorker, type SpawnedWorker } from '../support/chaos.js';
import { createCrossAccountClient } from '../../worker/cross-account-client.js';
import type { accountSetupWorkflow } from '../../workflows/account-setup.workflow.js';
import type { accountFailoverWorkflow } from '../../workflows/account-failover.workflow.js';

const N = 12;
const BATCH = 4;
const SEEDS = chaosSeeds([1]);
let h: Harness;
let fx: ReturnType<typeof accountFixtures>;
const logs: string[] = [];

beforeAll(async () => {
  h = await startHarness('chaos-account');
  fx = accountFixtures(h, inject('labUrl'));
  if (!onAws) await fx.accounts();
});
afterAll(async () => {
  await h?.close();
});

const count = async (op: string) => (await h.lab!.counters([h.primaryRegion]))[h.primaryRegion]?.[op]?.calls ?? 0;

/** Runs `start` on a spawned worker, kills it once `op` was called k times, finishes on a new worker. */
async function withKill<T>(k: number, op: string, start: (prefix: string) => Promise<{ result(): Promise<T> }>): Promise<T> {
  const prefix = `t-chaos-acct-${randomBytes(4).toString('hex')}`;
  const spawnOne = () => spawnWorker({ temporalAddress: inject('temporalAddress'), labUrl: inject('labUrl'), prefix, regions: [h.primaryRegion], logs });
  let worker: SpawnedWorker = await spawnOne();
  try {
    await h.lab!.resetCounters([h.primaryRegion]);
    const handle = await start(prefix);
    await eventually(`${k} × ${op}`, async () => ((await count(op)) >= k ? true : undefined), 60_000, 20);
    await worker.kill();
    worker = await spawnOne();
    return await handle.result();
  } finally {
    await worker.kill();
  }
}

describe.skipIf(onAws)('chaos: the worker is killed mid-association and mid-promotion (account DR)', () => {
  for (const seed of SEEDS) {
    it(`seed ${seed}: setup and failover converge after a SIGKILL`, async (ctx) => {
      if (onAws) return ctx.skip(LAB_ONLY);
      requireBuilt();
      const rand = prng(seed);
      const prefix = `${h.names}seed${seed}/`;
      const names = Array.from({ length: N }, (_, i) => `${prefix}s${String(i).padStart(2, '0')}`);
      const seeded = await fx.seed(LAB_DEFAULT, names, () => `chaos-acct-${randomBytes(8).toString('hex')}`);
      const plan = await fx.planFor(prefix);

      const kAssociate = rand.int(1, N - 2);
      const setup = await withKill(kAssociate, 'AssociateCrossAccountReplica', (p) =>
        h.client.workflow.start<typeof accountSetupWorkflow>('accountSetupWorkflow', {
          taskQueue: workflowTaskQueue(p),
          workflowId: `${accountSetupWorkflowId(plan.name, RECOVERY)}/${p}`,
          args: [{ plan, accountId: RECOVERY, taskQueuePrefix: p, batchSize: BATCH, pollMs: 200 }],
        }),
      );
      expect(setup.outcome, `killed after ${kAssociate} associations: ${JSON.stringify(setup.attention)}`).toBe('done');
      expect(setup.counts).toEqual({ 'in-sync': N });
      const counters = (await h.lab!.counters([h.primaryRegion]))[h.primaryRegion] ?? {};
      expect(counters.AssociateCrossAccountReplica?.calls ?? 0).toBeLessThanOrEqual(N + BATCH);
      const recovery = createCrossAccountClient({ region: h.primaryRegion, endpoint: inject('labUrl'), credentials: keyOf(RECOVERY) });
      for (const n of names) {
        const d = await recovery.describeSecretCrossAccount({ SecretId: n });
        expect(d.CrossAccountPrimary?.ReplicationStatus, n).toBe('InSync');
        expect(await fx.read(RECOVERY, n)).toBe(seeded[n]);
      }

      const kPromote = rand.int(1, N - 2);
      const failover = await withKill(kPromote, 'StopReplicationToReplica', (p) =>
        h.client.workflow.start<typeof accountFailoverWorkflow>('accountFailoverWorkflow', {
          taskQueue: workflowTaskQueue(p),
          workflowId: `${accountFailoverWorkflowId(plan.name, RECOVERY)}/${p}`,
          args: [{ plan, accountId: RECOVERY, taskQueuePrefix: p, batchSize: BATCH }],
        }),
      );
      expect(failover.outcome, `killed after ${kPromote} promotions: ${JSON.stringify(failover.attention)}`).toBe('done');
      expect(failover.counts).toEqual({ promoted: N });
      // Planned (the primary answers): every primary was fenced before its replica was detached, whatever the kill interrupted.
      expect(failover.primaryFence).toMatchObject({ state: 'fenced', fenced: N, failed: [] });
      // Read from each primary, not the report: the deny statement is the fence.
      for (const n of names) {
        const policy = (await fx.sm(LAB_DEFAULT).send(new GetResourcePolicyCommand({ SecretId: n }))).ResourcePolicy;
        expect(hasStatement(policy, FENCE_SID), `${n}: the primary's deny statement`).toBe(true);
      }
      const promotions = (await h.lab!.counters([h.primaryRegion]))[h.primaryRegion]?.StopReplicationToReplica?.calls ?? 0;
      expect(promotions, 'each replica promoted once').toBe(N);
      for (const n of names) expect((await recovery.describeSecretCrossAccount({ SecretId: n })).CrossAccountPrimary).toBeUndefined();
    }, 180_000);
  }
});

/**
 * The monitor's account DR checks: each cycle, per recovery account of the plan, both accounts' reach and the
 * cross-account replicas' status (accountStatusOf: two probes and one inspect, on the primary Region's queue),
 * judged by accountHealthOf, and one `Health Changed` event (with `account`) per change. Account health never
 * hands anything to recover: a denied primary is the compromised account's face, and account failover is the
 * operator's decision (`failover --to-account`), so AccessDenied can never start one.
 */
import { log, workflowInfo } from '@temporalio/workflow';
import { nextAccountHealth, type AccountHealth } from '../domain/account-health.js';
import type { Plan } from '../domain/plan.js';
import type { EventActivities } from '../activities/events.activities.js';
import { regionActivities } from './activity-options.js';
import { failureMessage } from './kit/index.js';
import { AccountRun } from './account.steps.js';
import { accountStatusOf } from './account-status.workflow.js';

const PUBLISH_OPTIONS = { startToCloseTimeout: '30s', retry: { initialInterval: '500ms', maximumAttempts: 3 } } as const;

export class AccountWatch {
  readonly #health = new Map<string, AccountHealth>();

  constructor(
    readonly plan: Plan,
    readonly taskQueuePrefix: string | undefined,
    carried: readonly AccountHealth[] = [],
  ) {
    // Accounts still in the plan resume where the last run left them.
    for (const h of carried) if (plan.recoveryAccounts.some((a) => a.accountId === h.accountId)) this.#health.set(h.accountId, h);
  }

  health(): AccountHealth[] {
    return this.plan.recoveryAccounts.map((a) => this.#health.get(a.accountId)).filter((h): h is AccountHealth => h !== undefined);
  }

  /** One check of every recovery account; events for the changes, published from `where` (a Region that answered this cycle). */
  async observe(at: string, where: string | undefined): Promise<number> {
    let events = 0;
    for (const { accountId } of this.plan.recoveryAccounts) {
      let seen: Parameters<typeof nextAccountHealth>[1];
      try {
        seen = {
          accountId,
          report: await accountStatusOf(
            new AccountRun({ plan: this.plan, accountId, ...(this.taskQueuePrefix ? { taskQueuePrefix: this.taskQueuePrefix } : {}) }),
          ),
        };
      } catch (err) {
        seen = { accountId, error: failureMessage(err) };
      }
      const prev = this.#health.get(accountId);
      const { health, changed } = nextAccountHealth(prev, seen, at);
      this.#health.set(accountId, health);
      if (changed && (await this.announce(prev?.state ?? 'healthy', health, where))) events++;
    }
    return events;
  }

  async announce(from: string, h: AccountHealth, where: string | undefined): Promise<boolean> {
    if (!where) {
      log.warn('Health Changed not published: no Region reachable', { account: h.accountId, to: h.state });
      return false;
    }
    const detail = {
      plan: this.plan.name,
      workflowId: workflowInfo().workflowId,
      account: h.accountId,
      region: this.plan.primaryRegion,
      from,
      to: h.state,
      primaryReach: h.primaryReach,
      recoveryReach: h.recoveryReach,
      reasons: h.reasons,
      replicas: h.replicas,
    };
    try {
      await regionActivities<EventActivities>(where, this.taskQueuePrefix, PUBLISH_OPTIONS).publishEvent({
        bus: this.plan.events.bus,
        event: { detailType: 'Health Changed', detail },
      });
      return true;
    } catch (err) {
      log.warn('Health Changed not published', { account: h.accountId, error: failureMessage(err) });
      return false;
    }
  }
}

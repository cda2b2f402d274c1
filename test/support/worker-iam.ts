/**
 * The integration workers run under the generated worker policy (domain/iam.ts `policyFor`), as
 * in production: on the lab, each test file's in-process workers sign with an access key of their
 * own, and every plan the file hands to a workflow (start, execute, signal-with-start through the
 * harness's client) gets its worker policy bound to that key before the workflow starts (a key's
 * policies combine, as several policies of one IAM role do). Seeding and inspection in the tests
 * use the lab's unrestricted key (LAB_CREDENTIALS): no policy binds it.
 */
import { createHash } from 'node:crypto';
import type { WorkflowClientInterceptor } from '@temporalio/client';
import { policyFor, type PolicyDocument } from '../../domain/iam.js';
import type { Plan } from '../../domain/plan.js';
import type { LabClient } from '../../lab/client.js';

/** The lab's account (its default). */
export const LAB_ACCOUNT = '123456789012';

export const workerAccessKey = (file: string): string => `secrets-dr-worker-${file}`;
export const workerCredentials = (file: string) => ({ accessKeyId: workerAccessKey(file), secretAccessKey: 'secrets-dr-worker' });

/** Plans among a workflow's arguments: an argument that is a plan, or carries one as `plan`. */
export function plansIn(args: readonly unknown[]): Plan[] {
  const out: Plan[] = [];
  for (const a of args) {
    for (const candidate of [a, (a as { plan?: unknown } | null)?.plan]) {
      // A parsed plan (defaults applied), as the harness's plan() builds them.
      const c = candidate as Partial<Plan> | null;
      if (
        c &&
        typeof c === 'object' &&
        typeof c.name === 'string' &&
        typeof c.primaryRegion === 'string' &&
        Array.isArray(c.drRegions) &&
        Array.isArray(c.secrets?.include) &&
        c.events &&
        c.rotation
      )
        out.push(c as Plan);
    }
  }
  return out;
}

/** Binds the worker policy of each plan to one access key in the lab, once per distinct policy. */
export class WorkerPolicyBinder {
  private readonly bound = new Set<string>();
  readonly policies: PolicyDocument[] = [];

  constructor(
    private readonly lab: LabClient,
    readonly accessKeyId: string,
  ) {}

  async bindPlan(plan: Plan): Promise<void> {
    const policy = policyFor('worker', plan, { accountId: LAB_ACCOUNT });
    const digest = createHash('sha256').update(JSON.stringify(policy)).digest('hex');
    if (this.bound.has(digest)) return;
    this.bound.add(digest);
    this.policies.push(policy);
    await this.lab.call('POST', 'iam/policy', { accessKeyId: this.accessKeyId, policy });
  }

  /** A client interceptor: the plans a workflow is started with are bound before it starts. */
  interceptor(): WorkflowClientInterceptor {
    const bindArgs = async (args: readonly unknown[]) => {
      for (const plan of plansIn(args)) await this.bindPlan(plan);
    };
    return {
      startWithDetails: async (input, next) => {
        await bindArgs(input.options.args);
        return next(input);
      },
      signalWithStart: async (input, next) => {
        await bindArgs(input.options.args);
        return next(input);
      },
      startUpdateWithStart: async (input, next) => {
        await bindArgs(input.workflowStartOptions.args);
        return next(input);
      },
    };
  }
}

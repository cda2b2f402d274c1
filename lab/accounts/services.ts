/**
 * The stateful services of one lab account: Secrets Manager, EventBridge, the Lambda functions and
 * SSM's Secrets Manager references. The default account's are built at start; any other account's
 * the first time a key of it calls (or a /_lab/ route names it). Quota buckets are per account and
 * Region, as AWS's are; faults stay per Region (an outage hits every account of the Region).
 */
import type { ScaledClock } from '../clock.js';
import { EventBridgeService } from '../eventbridge/service.js';
import type { FaultRegistry } from '../faults.js';
import { authorizeCall, requestFacts } from '../iam/authorize.js';
import type { IamEnforcer } from '../iam/enforcer.js';
import { incidentAnswer, type IncidentAnswer } from '../incident-errors.js';
import type { KmsKeyPolicies } from '../kms/key-policies.js';
import { LambdaFunctions } from '../lambda/functions.js';
import type { QuotaEnforcer } from '../quotas.js';
import { SecretsManagerService } from '../secrets-manager/service.js';
import { SsmService } from '../ssm/service.js';
import { LabError } from '../types.js';

export interface AccountServices {
  accountId: string;
  secretsManager: SecretsManagerService;
  eventBridge: EventBridgeService;
  functions: LambdaFunctions;
  ssm: SsmService;
}

export interface AccountServiceDeps {
  defaultAccountId: string;
  regions: readonly string[];
  clock: ScaledClock;
  faults: FaultRegistry;
  quotas: QuotaEnforcer;
  iam: IamEnforcer;
  kms: KmsKeyPolicies;
  replicationLagMs: number;
  replicaDeleteDelayMs?: number;
  log: (line: string) => void;
  markDirty: () => void;
  /** The Secrets Manager of another existing account. */
  peer(accountId: string): SecretsManagerService | undefined;
  organizationOf(accountId: string): string;
}

/** The quota bucket key of an account in a Region (the default account keeps the plain Region: existing counters and tests). */
export function quotaKey(defaultAccountId: string, accountId: string, region: string): string {
  return accountId === defaultAccountId ? region : `${region}#${accountId}`;
}

export function createAccountServices(accountId: string, d: AccountServiceDeps): AccountServices {
  const { regions, clock, faults, quotas, iam } = d;
  const eventBridge = new EventBridgeService({ accountId, regions: [...regions], clock, log: d.log });
  const functions = new LambdaFunctions(accountId, regions, d.markDirty);
  const secretsManager = new SecretsManagerService({
    functions,
    rotationControl: faults,
    accountId,
    regions,
    clock,
    replicationLagMs: d.replicationLagMs,
    ...(d.replicaDeleteDelayMs !== undefined ? { replicaDeleteDelayMs: d.replicaDeleteDelayMs } : {}),
    emit: (ev) => eventBridge.publish(ev),
    control: faults,
    onChange: d.markDirty,
    peer: d.peer,
    kms: d.kms,
    organizationOf: d.organizationOf,
  });
  // SSM references read through Secrets Manager's GetSecretValue path: the caller's permissions, its quota, then the operation.
  const ssm = new SsmService((input, ctx) => {
    // Parameter Store honours the caller's Secrets Manager permissions.
    if (faults.anyDenials && faults.deniedWith(ctx.region, 'GetSecretValue') === 'AccessDeniedException') {
      const a: IncidentAnswer = incidentAnswer('AccessDeniedException', 'secretsmanager', 'GetSecretValue', input, ctx, requestFacts(secretsManager, ctx));
      throw new LabError(a.type, a.message, a.status);
    }
    const refused = authorizeCall(iam, secretsManager, 'secretsmanager', 'GetSecretValue', input, ctx);
    if (refused) throw refused;
    if (!quotas.admit(quotaKey(d.defaultAccountId, accountId, ctx.region), 'GetSecretValue', (g) => faults.throttleFor(ctx.region, g))) {
      throw new LabError('ThrottlingException', 'Rate exceeded');
    }
    return secretsManager.handleSync('GetSecretValue', input, ctx) as Record<string, unknown>;
  });
  return { accountId, secretsManager, eventBridge, functions, ssm };
}

/**
 * The parts of a running lab that its request handlers share (built once by `startLab`): the
 * Regions, the clock, the fault, counter, quota and IAM registries, and the service emulators.
 */
import type { AccountDirectory } from './accounts/directory.js';
import type { AccountServices } from './accounts/services.js';
import type { ScaledClock } from './clock.js';
import type { KmsKeyPolicies } from './kms/key-policies.js';
import type { CallCounters } from './counters.js';
import type { EventBridgeService } from './eventbridge/service.js';
import type { FaultRegistry } from './faults.js';
import type { IamEnforcer } from './iam/enforcer.js';
import type { LambdaFunctions } from './lambda/functions.js';
import type { QuotaEnforcer } from './quotas.js';
import type { SecretsManagerService } from './secrets-manager/service.js';
import type { SsmService } from './ssm/service.js';

/** `secretsManager`, `eventBridge`, `functions`, `ssm` below are the default account's. */
export interface LabCore {
  regions: readonly string[];
  regionSet: ReadonlySet<string>;
  /** The default account (keys not of the form lab<12 digits> nor issued by STS). */
  accountId: string;
  /** Access keys → accounts, STS's temporary keys, roles, revoked accounts. */
  directory: AccountDirectory;
  /** KMS key policies of every account. */
  kms: KmsKeyPolicies;
  /** The services of an account, built the first time it is named. */
  account(accountId: string): AccountServices;
  /** The accounts built so far (the default one first). */
  accounts(): AccountServices[];
  clock: ScaledClock;
  faults: FaultRegistry;
  counters: CallCounters;
  quotas: QuotaEnforcer;
  iam: IamEnforcer;
  secretsManager: SecretsManagerService;
  eventBridge: EventBridgeService;
  functions: LambdaFunctions;
  ssm: SsmService;
  log: (line: string) => void;
  /** Schedules a save of the state file (no-op without one). */
  markDirty: () => void;
}

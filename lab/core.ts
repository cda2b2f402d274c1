/**
 * The parts of a running lab that its request handlers share (built once by `startLab`): the
 * Regions, the clock, the fault, counter, quota and IAM registries, and the service emulators.
 */
import type { ScaledClock } from './clock.js';
import type { CallCounters } from './counters.js';
import type { EventBridgeService } from './eventbridge/service.js';
import type { FaultRegistry } from './faults.js';
import type { IamEnforcer } from './iam/enforcer.js';
import type { LambdaFunctions } from './lambda/functions.js';
import type { QuotaEnforcer } from './quotas.js';
import type { SecretsManagerService } from './secrets-manager/service.js';
import type { SsmService } from './ssm/service.js';

export interface LabCore {
  regions: readonly string[];
  regionSet: ReadonlySet<string>;
  accountId: string;
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

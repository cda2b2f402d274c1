/**
 * resolveConflict (child of a setup batch): one same-named secret in one DR Region. The machine
 * (machines/resolve-conflict.machine.ts) decides, and its output is the resolution; the steps
 * (resolve-conflict.steps.ts) act, in the order the machine allows: compare → (approval) → backup
 * → (adopt) → force-overwrite.
 */
import type { ConflictResolution } from '../domain/replication.js';
import { MachineDriver } from './kit/index.js';
import { resolveConflictMachine } from './machines/resolve-conflict.machine.js';
import { ConflictRun } from './resolve-conflict.steps.js';
import { ResolveConflictInput } from '../domain/workflow-inputs.js';

export async function resolveConflictWorkflow(raw: ResolveConflictInput): Promise<ConflictResolution> {
  const input = ResolveConflictInput.parse(raw);
  const run = new ConflictRun(input);
  run.installGate();
  const { secret, region, policy, approvalTimeoutMs } = input;
  const machine = new MachineDriver(resolveConflictMachine, { secret, region, policy, approvalTimeoutMs });
  return machine.run({
    compare: () => run.compare(),
    announceConflict: () => run.announceConflict(machine.context),
    requestApproval: () => run.requestApproval(),
    backup: () => run.backup(),
    adopt: () => run.adopt(),
    forceReplicate: () => run.forceReplicate(machine.context),
  });
}

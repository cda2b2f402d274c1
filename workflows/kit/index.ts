/** Building blocks every workflow with a machine, batches or a gate is wired from. */
export { runMachine, MachineDriver, type ActionName, type Effect, type Effects } from './run-machine.js';
export { runBatches, chunk, NO_CONTROL, type BatchLoop, type ControlState, type Wait } from './batch-loop.js';
export { ApprovalGate, decisionEvent, type GateEvent } from './approval-gate.js';
export { onControl, tellNewChild, listenForControl, type ControlKind, type Steerable } from './control.js';
export * from './control.messages.js';
export { failureMessage, failureType, isPermanent } from './failures.js';

/** Building blocks every workflow with a machine, batches or a gate is wired from. */
export { runMachine, MachineDriver } from './run-machine.js';
export { runBatches, chunk, type ControlState, type Wait } from './batch-loop.js';
export { ApprovalGate, decisionEvent } from './approval-gate.js';
export { onControl, tellNewChild, listenForControl, type ControlKind } from './control.js';
export * from './control.messages.js';
export { failureMessage, failureType, isPermanent } from './failures.js';
export { controlEvent } from './control-events.js';

/** The workflow bundle's entry: every workflow the worker registers. */
export { statusWorkflow } from './status.workflow.js';

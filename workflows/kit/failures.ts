/**
 * What went wrong, from a failure Temporal hands back (ActivityFailure → ApplicationFailure, a
 * child's ChildWorkflowFailure → ...): the root message via `rootCause` from the SDK, the error
 * type name (ErrorType.*) of the innermost ApplicationFailure, by `instanceof`.
 */
import { ApplicationFailure, rootCause } from '@temporalio/workflow';
import { NON_RETRYABLE_ERROR_TYPES, type ErrorType } from '../../domain/errors.js';

export function failureMessage(err: unknown): string {
  return rootCause(err) ?? String(err);
}

/** The type name of the innermost ApplicationFailure in the cause chain (undefined: none had one). */
export function failureType(err: unknown): string | undefined {
  let type: string | undefined;
  for (let e: unknown = err; e instanceof Error; e = e.cause) if (e instanceof ApplicationFailure && e.type) type = e.type;
  return type;
}

/** A failure that retrying cannot fix (access denied, a bad plan, a routing bug). */
export function isPermanent(err: unknown): boolean {
  const type = failureType(err);
  return type !== undefined && NON_RETRYABLE_ERROR_TYPES.includes(type as ErrorType);
}

/**
 * Error type names: the contract between activities (which throw them), retry policies (which list
 * the non-retryable ones by name) and the CLI (which maps them to exit codes). One place only.
 */
export const ErrorType = {
  /** The plan file is missing, unreadable or invalid. */
  PlanInvalid: 'PlanInvalid',
  /** Configuration from the environment is invalid. */
  ConfigInvalid: 'ConfigInvalid',
  /** Command-line usage error. */
  UsageError: 'UsageError',
  /** A Region could not be reached (connection refused/reset, timeout, 5xx). Retryable. */
  RegionUnreachable: 'RegionUnreachable',
  /**
   * A write still throttled after the write governor's tries (activities/write-governor.ts): retryable,
   * with a delay that lets the governor's rate recover first.
   */
  WriteThrottled: 'WriteThrottled',
  /** This worker process no longer holds the Region's write lease (worker/region-lease.ts): retry lands on the holder. */
  WriteLeaseLost: 'WriteLeaseLost',
  /** AWS said no for good: access denied, validation, not found where it must exist. */
  AwsRejected: 'AwsRejected',
  /** The secret does not exist (or is scheduled for deletion). */
  SecretNotFound: 'SecretNotFound',
  /** A backup cannot carry all of a secret (tag limit, policy, key...): nothing may be overwritten. */
  BackupNotPossible: 'BackupNotPossible',
  /** The Temporal server cannot be reached. */
  TemporalUnreachable: 'TemporalUnreachable',
  /** The local stack (lab) is not running or failed to start. */
  StackUnavailable: 'StackUnavailable',
  /** An activity for one Region reached the worker of another (task queue routing bug): never retried. */
  RoutingBug: 'RoutingBug',
} as const;
export type ErrorType = (typeof ErrorType)[keyof typeof ErrorType];

/** Errors that retrying cannot fix: activities' retry policies list these. */
export const NON_RETRYABLE_ERROR_TYPES: readonly ErrorType[] = [
  ErrorType.PlanInvalid,
  ErrorType.ConfigInvalid,
  ErrorType.AwsRejected,
  ErrorType.SecretNotFound,
  ErrorType.BackupNotPossible,
  ErrorType.RoutingBug,
];

/** Exit codes of the CLI (DESIGN.md). */
export const ExitCode = {
  Ok: 0,
  Failed: 1,
  BadInput: 2,
  NeedsAttention: 3,
  AwaitingApproval: 4,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** One problem with a path into the input (plan field, env variable, CLI option). */
export interface Problem {
  path: string;
  message: string;
}

/** An error that is the operator's to fix: the CLI prints it as one clear line (or a list of problems), no stack. */
export class OperatorError extends Error {
  constructor(
    readonly type: ErrorType,
    message: string,
    readonly problems: readonly Problem[] = [],
    readonly exitCode: ExitCode = ExitCode.BadInput,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = type;
  }
}

/**
 * Contracts shared by the lab's HTTP server and the service emulators it hosts
 * (Secrets Manager in lab/secrets-manager/, EventBridge in lab/eventbridge/).
 * The server owns transport (AWS JSON 1.1, SigV4 Region parsing, faults, quotas, counters);
 * a service only sees (operation, input, context) and returns the output object or throws LabError.
 */

/** An AWS error as the SDK recognises it: `__type` + `x-amzn-errortype` + HTTP status. */
export class LabError extends Error {
  constructor(
    /** e.g. 'ResourceNotFoundException' */
    readonly type: string,
    message: string,
    /** HTTP status; AWS uses 400 for almost every client error, 500 for InternalServiceError. */
    readonly status: number = 400,
  ) {
    super(message);
    this.name = type;
  }
}

/** The lab clock: wall time scaled by `speed` from the moment the speed was set (for rotation schedules in tests). */
export interface LabClock {
  /** Current lab time, epoch milliseconds. */
  now(): number;
  /** How many lab milliseconds pass per real millisecond (default 1). */
  readonly speed: number;
}

export interface RequestContext {
  /** The Region from the SigV4 credential scope, e.g. 'ap-northeast-1'. */
  region: string;
  accountId: string;
  /** The caller's access key id (SigV4 credential scope); absent for the lab's own internal calls. */
  accessKeyId?: string;
  /** The caller as IAM names it (user or assumed-role session ARN); absent for the lab's own internal calls. */
  principalArn?: string;
  requestId: string;
  clock: LabClock;
}

/** One EventBridge entry published by the lab itself (CloudTrail-style events, injected Health/alarm events). */
export interface InternalEvent {
  source: string;
  detailType: string;
  detail: Record<string, unknown>;
  resources?: string[];
  /** Region whose default bus receives it. */
  region: string;
}

export type EventSink = (event: InternalEvent) => void;

export interface EmulatedService {
  /** Handles one operation (the part after the '.' in X-Amz-Target). Throws LabError for AWS errors. */
  handle(operation: string, input: Record<string, unknown>, ctx: RequestContext): Promise<unknown>;
  /** Drops all state. */
  reset(): void;
  /** JSON-plain state for the optional state file. */
  snapshot(): unknown;
  restore(state: unknown): void;
}

/**
 * Lambda functions in the lab, per Region: only rotation functions, which Secrets Manager invokes
 * for RotateSecret (lab/secrets-manager/rotation-runner.ts runs their four steps). A function is
 * known by its ARN `arn:aws:lambda:<region>:<account>:function:<name>`; a RotationLambdaARN that
 * names no function here is one Secrets Manager "cannot invoke" (AccessDeniedException on AWS).
 */

export const ROTATION_KINDS = ['rotation-single-user', 'rotation-alternating-users'] as const;
export type RotationKind = (typeof ROTATION_KINDS)[number];

/** Default delay before each rotation step, lab-clock milliseconds. */
export const DEFAULT_STEP_DELAY_MS = 50;

export interface LabFunction {
  region: string;
  name: string;
  arn: string;
  kind: RotationKind;
  /** Delay before each of the four steps, lab-clock milliseconds. */
  stepDelayMs: number;
  createdAt: string;
}

interface CreateFunctionInput {
  region: string;
  name: string;
  kind?: string;
  stepDelayMs?: number;
}

/** Bad input for the lab API (the server answers 400 with the message). */
export class LambdaInputError extends Error {}

/** Lambda's own function-name rule (1-64 of letters, digits, hyphens, underscores). */
const NAME_RE = /^[A-Za-z0-9_-]{1,64}$/;
const ARN_RE = /^arn:aws[a-z-]*:lambda:([a-z0-9-]+):(\d{12}):function:([A-Za-z0-9_-]{1,64})$/;

function functionArn(region: string, accountId: string, name: string): string {
  return `arn:aws:lambda:${region}:${accountId}:function:${name}`;
}

/** Region, account and name of an unqualified function ARN; undefined for anything else. */
export function parseFunctionArn(arn: string): { region: string; accountId: string; name: string } | undefined {
  const m = ARN_RE.exec(arn);
  return m ? { region: m[1]!, accountId: m[2]!, name: m[3]! } : undefined;
}

export class LambdaFunctions {
  private readonly byArn = new Map<string, LabFunction>();

  constructor(
    readonly accountId: string,
    private readonly regions: readonly string[],
    private readonly onChange: () => void = () => undefined,
  ) {}

  create(input: CreateFunctionInput): LabFunction {
    if (typeof input.region !== 'string' || !this.regions.includes(input.region)) {
      throw new LambdaInputError(`"region" must be one of the lab's Regions (${this.regions.join(', ')})`);
    }
    if (typeof input.name !== 'string' || !NAME_RE.test(input.name)) {
      throw new LambdaInputError('"name" must be 1-64 letters, digits, hyphens or underscores (a Lambda function name)');
    }
    const kind = input.kind ?? 'rotation-single-user';
    if (!(ROTATION_KINDS as readonly string[]).includes(kind)) {
      throw new LambdaInputError(`"kind" must be one of ${ROTATION_KINDS.join(', ')}`);
    }
    const delay = input.stepDelayMs ?? DEFAULT_STEP_DELAY_MS;
    if (typeof delay !== 'number' || !Number.isFinite(delay) || delay < 0)
      throw new LambdaInputError('"stepDelayMs" must be a non-negative number (lab-clock milliseconds)');
    const arn = functionArn(input.region, this.accountId, input.name);
    if (this.byArn.has(arn)) throw new LambdaInputError(`function ${input.name} already exists in ${input.region} (${arn}); delete it first`);
    const fn: LabFunction = {
      region: input.region,
      name: input.name,
      arn,
      kind: kind as RotationKind,
      stepDelayMs: delay,
      createdAt: new Date().toISOString(),
    };
    this.byArn.set(arn, fn);
    this.onChange();
    return { ...fn };
  }

  delete(region: string, name: string): boolean {
    const gone = this.byArn.delete(functionArn(region, this.accountId, name));
    if (gone) this.onChange();
    return gone;
  }

  list(region?: string): LabFunction[] {
    return [...this.byArn.values()].filter((f) => region === undefined || f.region === region).map((f) => ({ ...f }));
  }

  /** The function an ARN names, if it exists (exact, unqualified ARN). */
  get(arn: string): LabFunction | undefined {
    return this.byArn.get(arn);
  }

  reset(): void {
    this.byArn.clear();
  }

  snapshot(): LabFunction[] {
    return this.list();
  }

  restore(state: unknown): void {
    this.reset();
    if (!Array.isArray(state)) return;
    for (const f of state as LabFunction[]) {
      if (this.regions.includes(f?.region) && typeof f.arn === 'string') this.byArn.set(f.arn, { ...f });
    }
  }
}

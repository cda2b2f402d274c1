/**
 * The lab's IAM: which policies bind which caller, the decision for each request, and a record of
 * what each access key was allowed (the proof that a policy is not wider than the tests need).
 *
 * Bindings: a policy for every caller (`lab up --iam-policy FILE`), or for one access key
 * (`--iam-policy AKID=FILE`, repeatable; several policies of one key combine). A key with policies
 * of its own is evaluated against those only; any other key against the every-caller policies;
 * with no binding at all the lab authorizes nothing (every request passes, as before).
 * The caller appears in denials as `arn:aws:iam::<account>:user/<access key id>`.
 */
import { accessDeniedMessage, evaluate, type AuthzRequest } from './evaluate.js';
import { parsePolicy, type IamPolicy } from './policy.js';

export const EVERY_CALLER = '*';

export interface IamDenial {
  request: AuthzRequest;
  message: string;
}

/** Per access key and action: requests allowed and denied, and a few of the resources. */
export interface IamRecordEntry {
  allowed: number;
  denied: number;
  resources: string[];
  /** The AccessDenied message of the latest refusal. */
  lastDenial?: string;
}
export type IamRecord = Record<string, Record<string, IamRecordEntry>>;

const RESOURCES_KEPT = 5;

export class IamEnforcer {
  private readonly bindings = new Map<string, { policies: IamPolicy[]; sources: string[] }>();
  private record: IamRecord = {};

  constructor(
    private readonly accountId: string,
    /** How a key appears in denials (its account's user, or an assumed-role session); default a user of `accountId`. */
    private readonly principal?: (accessKeyId: string | undefined) => string,
  ) {}

  get enabled(): boolean {
    return this.bindings.size > 0;
  }

  /** Binds a policy (object or JSON text) to an access key, or to every caller (`*`). */
  bind(accessKeyId: string, policy: unknown, source = 'policy'): void {
    if (accessKeyId === '' || /[\s=]/.test(accessKeyId)) throw new Error(`access key id "${accessKeyId}" is not valid: no spaces or "="`);
    const parsed = parsePolicy(policy, source);
    const b = this.bindings.get(accessKeyId) ?? { policies: [], sources: [] };
    b.policies.push(parsed);
    b.sources.push(source);
    this.bindings.set(accessKeyId, b);
  }

  /** Drops the policies of a key (or of every caller); true when there were some. */
  unbind(accessKeyId: string): boolean {
    return this.bindings.delete(accessKeyId);
  }

  principalOf(accessKeyId: string | undefined): string {
    return this.principal?.(accessKeyId) ?? `arn:aws:iam::${this.accountId}:user/${accessKeyId ?? 'anonymous'}`;
  }

  /** The policies a caller is evaluated against; undefined when nothing binds it. */
  policiesOf(accessKeyId: string | undefined): IamPolicy[] | undefined {
    return (accessKeyId !== undefined ? this.bindings.get(accessKeyId) : undefined)?.policies ?? this.bindings.get(EVERY_CALLER)?.policies;
  }

  /** Evaluates the requests of one call in order; the first refused one is the answer. */
  authorize(accessKeyId: string | undefined, requests: readonly AuthzRequest[]): IamDenial | undefined {
    const policies = this.policiesOf(accessKeyId);
    if (!policies) return undefined;
    const key = accessKeyId ?? 'anonymous';
    for (const request of requests) {
      const decision = evaluate(policies, request);
      const entry = this.entry(key, request.action);
      if (!decision.allowed) {
        entry.denied++;
        entry.lastDenial = accessDeniedMessage(this.principalOf(accessKeyId), request, decision.reason);
        return { request, message: entry.lastDenial };
      }
      entry.allowed++;
      if (entry.resources.length < RESOURCES_KEPT && !entry.resources.includes(request.resource)) entry.resources.push(request.resource);
    }
    return undefined;
  }

  private entry(key: string, action: string): IamRecordEntry {
    const byAction = (this.record[key] ??= {});
    return (byAction[action] ??= { allowed: 0, denied: 0, resources: [] });
  }

  /** What was decided, per key and action (one key, or all). */
  recorded(accessKeyId?: string): IamRecord {
    const copy = JSON.parse(JSON.stringify(this.record)) as IamRecord;
    return accessKeyId === undefined ? copy : { [accessKeyId]: copy[accessKeyId] ?? {} };
  }

  resetRecord(): void {
    this.record = {};
  }

  describe(): Array<{ accessKeyId: string; policies: number; sources: string[] }> {
    return [...this.bindings].map(([accessKeyId, b]) => ({ accessKeyId, policies: b.policies.length, sources: b.sources }));
  }
}

/** `FILE` (every caller) or `AKID=FILE` (one access key), as `lab up --iam-policy` takes it. */
export function parsePolicyBinding(spec: string): { accessKeyId: string; file: string } {
  const eq = spec.indexOf('=');
  if (eq < 0) return { accessKeyId: EVERY_CALLER, file: spec };
  const accessKeyId = spec.slice(0, eq);
  const file = spec.slice(eq + 1);
  if (!accessKeyId || !file) throw new Error(`--iam-policy "${spec}": expected FILE or ACCESS_KEY_ID=FILE`);
  return { accessKeyId, file };
}

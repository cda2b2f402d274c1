import { parseFunctionArn, type LabFunction, type RotationKind } from './lambda/functions.js';

/** An answer of the lab API other than 2xx: `status` 400 means the request was bad. */
export class LabApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = 'LabApiError';
  }
}

/** A small client of the lab's `/_lab/` JSON API (faults, counters, seeding, events, Lambda functions) for the CLI and tests. */
export class LabClient {
  constructor(readonly url: string) {}

  static fromEnv(env: NodeJS.ProcessEnv = process.env): LabClient | undefined {
    const url = env.SECRETS_DR_LAB_URL;
    return url ? new LabClient(url) : undefined;
  }

  async call<T = unknown>(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<T> {
    let res: Response;
    try {
      res = await fetch(`${this.url.replace(/\/$/, '')}/_lab/${path}`, {
        method,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (err) {
      throw new Error(`the lab at ${this.url} does not answer (${(err as Error).message}); start it with \`secrets-dr lab up\``);
    }
    const text = await res.text();
    const data = text ? (JSON.parse(text) as unknown) : undefined;
    if (!res.ok) {
      const msg = (data as { error?: string } | undefined)?.error ?? text;
      throw new LabApiError(`lab ${method} /_lab/${path}: ${msg}`, res.status);
    }
    return data as T;
  }

  status() {
    return this.call<Record<string, unknown>>('GET', 'status');
  }
  fault(
    kind:
      'outage' | 'latency' | 'replication-lag' | 'replication-pause' | 'throttle' | 'fail-next' | 'rotation-stall' | 'replica-delete-delay' | 'deny' | 'clear',
    body: Record<string, unknown>,
  ) {
    return this.call('POST', `fault/${kind}`, body);
  }
  reset() {
    return this.call('POST', 'reset');
  }
  /** The lab's accounts (the default one and every account a key or route named). */
  accounts() {
    return this.call<{ defaultAccountId: string; accounts: Array<{ accountId: string; organizationId: string; revoked: boolean }>; temporaryKeys: number }>(
      'GET',
      'accounts',
    );
  }
  /** Every key of the account (its own and STS's) then answers UnrecognizedClientException: "the account is compromised". */
  revokeAccount(accountId: string) {
    return this.call<{ ok: boolean; accountId: string }>('POST', `accounts/${accountId}/revoke`);
  }
  restoreAccount(accountId: string) {
    return this.call<{ ok: boolean; accountId: string }>('POST', `accounts/${accountId}/restore`);
  }
  /** A role STS AssumeRole checks: trusted accounts, an external id, an identity policy for its keys. */
  createRole(role: { accountId: string; roleName: string; trustedAccounts?: string[]; externalId?: string; policy?: unknown; maxSessionSeconds?: number }) {
    return this.call<{ ok: boolean; roleArn: string }>('POST', 'roles', role);
  }
  /** A KMS key policy (a key without one allows only its own account). */
  putKeyPolicy(key: { accountId?: string; region: string; keyId: string; policy: unknown }) {
    return this.call<{ ok: boolean; keyArn: string }>('POST', 'kms/key-policy', key);
  }
  /** Creates a rotation function in a Region; RotateSecret can then name its ARN. */
  createFunction(fn: { region: string; name: string; kind?: RotationKind; stepDelayMs?: number }) {
    return this.call<LabFunction>('POST', 'lambda', fn);
  }
  async listFunctions(region?: string) {
    return (await this.call<{ functions: LabFunction[] }>('GET', `lambda${region ? `?region=${encodeURIComponent(region)}` : ''}`)).functions;
  }
  /** Creates the functions these ARNs name, unless they exist already (a plan's `rotation` map). */
  async ensureFunctions(arns: readonly string[], kind?: RotationKind): Promise<LabFunction[]> {
    const existing = new Set((await this.listFunctions()).map((f) => f.arn));
    const created: LabFunction[] = [];
    for (const arn of new Set(arns)) {
      const parsed = parseFunctionArn(arn);
      if (!parsed) throw new LabApiError(`not a Lambda function ARN: ${arn}`, 400);
      if (!existing.has(arn)) created.push(await this.createFunction({ region: parsed.region, name: parsed.name, ...(kind ? { kind } : {}) }));
    }
    return created;
  }
  deleteFunction(region: string, name: string) {
    return this.call('DELETE', 'lambda', { region, name });
  }
  /** Call counts per Region per operation; only the given Regions when named. */
  async counters(regions?: readonly string[]) {
    const all = await this.call<Record<string, Record<string, { calls: number; throttled?: number; failed?: number }>>>('GET', 'counters');
    return regions ? Object.fromEntries(Object.entries(all).filter(([r]) => regions.includes(r))) : all;
  }
  /** Resets the counts of the given Regions (tests running side by side each reset their own). */
  resetCounters(regions?: readonly string[]) {
    return this.call('POST', 'counters/reset', regions ? { regions } : {});
  }
  seed(
    region: string,
    secrets: Array<{ name: string; value?: string; tags?: Array<{ Key: string; Value: string }>; description?: string; replicaRegions?: string[] }>,
  ) {
    return this.call<unknown>('POST', 'seed', { region, secrets });
  }
  events(filter: { region?: string; source?: string; detailType?: string } = {}) {
    const q = new URLSearchParams(Object.entries(filter).filter(([, v]) => v !== undefined) as [string, string][]).toString();
    return this.call<unknown[]>('GET', `events${q ? `?${q}` : ''}`);
  }
}

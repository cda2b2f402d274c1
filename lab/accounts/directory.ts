/**
 * The lab's accounts: which account an access key belongs to, the temporary keys STS handed out,
 * the roles callers may assume (with their trust policy), and revoked accounts. Pure state.
 *
 * - A key `lab<12 digits>` belongs to that account (e.g. `lab210987654321`); a temporary key
 *   (`ASIA...`, from AssumeRole) to the account of the role it was issued for; any other key to
 *   the lab's default account (123456789012 unless `startLab({ accountId })` says otherwise).
 * - A revoked account (`POST /_lab/accounts/<id>/revoke`, the demo's "the account is compromised")
 *   refuses every key of its own: AWS's front end answers UnrecognizedClientException ("The security
 *   token included in the request is invalid."), STS InvalidClientTokenId. `.../restore` undoes it.
 * - A temporary key past its Expiration answers ExpiredTokenException ("The security token included
 *   in the request is expired").
 * - Roles (`POST /_lab/roles`): an ARN `arn:aws:iam::<account>:role/<name>`, a trust policy reduced
 *   to what the lab checks (the accounts allowed to assume it, and an optional sts:ExternalId), and
 *   an optional identity policy bound to every key issued for it. AssumeRole of a role the lab does
 *   not know is allowed (the lab has no trust policy for it, as it enforces no IAM without policies).
 */
import { randomBytes } from 'node:crypto';

const LAB_KEY_RE = /^lab(\d{12})$/;
const ACCOUNT_RE = /^\d{12}$/;
const ROLE_ARN_RE = /^arn:aws:iam::(\d{12}):role\/((?:[\w+=,.@-]+\/)*)([\w+=,.@-]{1,64})$/;

interface LabRole {
  arn: string;
  accountId: string;
  name: string;
  /** Accounts whose callers may assume it; default: any account. */
  trustedAccounts?: string[];
  /** The sts:ExternalId the trust policy requires, if any. */
  externalId?: string;
  /** Identity policy of the role: bound to every key issued for it. */
  policy?: unknown;
  /** Longest session, seconds (IAM's MaxSessionDuration; default 3600). */
  maxSessionSeconds: number;
}

interface TemporaryKey {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  accountId: string;
  roleArn: string;
  sessionName: string;
  /** Epoch ms (lab clock). */
  expiration: number;
}

/** Why a key may not call: the front end's answer. */
type KeyRefusal = 'UnrecognizedClientException' | 'ExpiredTokenException';

export interface KeyIdentity {
  accountId: string;
  /** The caller as IAM names it: `arn:aws:iam::<acct>:user/<key>` or `arn:aws:sts::<acct>:assumed-role/<role>/<session>`. */
  arn: string;
  userId: string;
  temporary?: TemporaryKey;
}

interface DirectorySnapshot {
  temporary: TemporaryKey[];
  roles: LabRole[];
  revoked: string[];
  organizations: Record<string, string>;
}

export function parseRoleArn(arn: string): { accountId: string; name: string } | undefined {
  const m = ROLE_ARN_RE.exec(arn);
  return m ? { accountId: m[1]!, name: m[3]! } : undefined;
}

export function isAccountId(s: unknown): s is string {
  return typeof s === 'string' && ACCOUNT_RE.test(s);
}

export class AccountDirectory {
  private readonly temporary = new Map<string, TemporaryKey>();
  private readonly roles = new Map<string, LabRole>();
  private readonly revoked = new Set<string>();
  private readonly organizations = new Map<string, string>();

  constructor(readonly defaultAccountId: string) {}

  /** The account an access key belongs to (whether or not it may call). */
  accountOf(accessKeyId: string | undefined): string {
    if (accessKeyId === undefined) return this.defaultAccountId;
    const lab = LAB_KEY_RE.exec(accessKeyId);
    if (lab) return lab[1]!;
    return this.temporary.get(accessKeyId)?.accountId ?? this.defaultAccountId;
  }

  identityOf(accessKeyId: string | undefined): KeyIdentity {
    const t = accessKeyId !== undefined ? this.temporary.get(accessKeyId) : undefined;
    if (t) {
      const role = parseRoleArn(t.roleArn);
      return {
        accountId: t.accountId,
        arn: `arn:aws:sts::${t.accountId}:assumed-role/${role?.name ?? 'role'}/${t.sessionName}`,
        userId: `AROA${t.accountId}${(role?.name ?? '').length}:${t.sessionName}`,
        temporary: t,
      };
    }
    const accountId = this.accountOf(accessKeyId);
    const key = accessKeyId ?? 'anonymous';
    return { accountId, arn: `arn:aws:iam::${accountId}:user/${key}`, userId: `AIDA${key.toUpperCase().replace(/[^A-Z0-9]/g, '')}` };
  }

  /**
   * Undefined when the key may call at `now`; else the refusal its front end answers. A temporary key
   * needs its session token (X-Amz-Security-Token) too, as on AWS: without it, or with another, the key is invalid.
   */
  refusal(accessKeyId: string | undefined, now: number, sessionToken?: string): KeyRefusal | undefined {
    if (this.revoked.has(this.accountOf(accessKeyId))) return 'UnrecognizedClientException';
    const t = accessKeyId !== undefined ? this.temporary.get(accessKeyId) : undefined;
    if (t && sessionToken !== t.sessionToken) return 'UnrecognizedClientException';
    if (t && t.expiration <= now) return 'ExpiredTokenException';
    return undefined;
  }

  issue(role: { arn: string; accountId: string }, sessionName: string, durationSeconds: number, now: number): TemporaryKey {
    const key: TemporaryKey = {
      accessKeyId: `ASIA${randomBytes(8).toString('hex').toUpperCase()}`,
      secretAccessKey: randomBytes(30).toString('base64'),
      sessionToken: `lab-session-${randomBytes(48).toString('base64')}`,
      accountId: role.accountId,
      roleArn: role.arn,
      sessionName,
      expiration: now + durationSeconds * 1000,
    };
    this.temporary.set(key.accessKeyId, key);
    return key;
  }

  putRole(role: LabRole): void {
    this.roles.set(role.arn, role);
  }

  role(arn: string): LabRole | undefined {
    return this.roles.get(arn);
  }

  listRoles(): LabRole[] {
    return [...this.roles.values()];
  }

  revoke(accountId: string): void {
    this.revoked.add(accountId);
  }

  /** Undoes revoke. */
  reinstate(accountId: string): boolean {
    return this.revoked.delete(accountId);
  }

  isRevoked(accountId: string): boolean {
    return this.revoked.has(accountId);
  }

  revokedAccounts(): string[] {
    return [...this.revoked];
  }

  /** Temporary keys still known (expired ones included: they answer ExpiredTokenException). */
  temporaryKeys(): number {
    return this.temporary.size;
  }

  /** The account's AWS Organizations id (ReplicaRestriction SameOrg): every account in `o-lab` unless set. */
  organizationOf(accountId: string): string {
    return this.organizations.get(accountId) ?? 'o-lab';
  }

  setOrganization(accountId: string, organizationId: string): void {
    this.organizations.set(accountId, organizationId);
  }

  /** JSON-plain state for the state file. */
  snapshot(): DirectorySnapshot {
    return {
      temporary: [...this.temporary.values()],
      roles: [...this.roles.values()],
      revoked: [...this.revoked],
      organizations: Object.fromEntries(this.organizations),
    };
  }

  restore(state: unknown): void {
    this.reset();
    const s = (state ?? {}) as Partial<DirectorySnapshot>;
    for (const t of s.temporary ?? []) this.temporary.set(t.accessKeyId, t);
    for (const r of s.roles ?? []) this.roles.set(r.arn, r);
    for (const id of s.revoked ?? []) this.revoked.add(id);
    for (const [id, org] of Object.entries(s.organizations ?? {})) this.organizations.set(id, org);
  }

  reset(): void {
    this.organizations.clear();
    this.temporary.clear();
    this.roles.clear();
    this.revoked.clear();
  }
}

/**
 * AWS STS in the lab: AssumeRole and GetCallerIdentity, in STS's Query protocol (form-encoded
 * `Action=...&Version=2011-06-15` POST, XML answers), as @aws-sdk/client-sts (and the SDK's
 * credential providers) and boto3 send it. Shapes and error codes from botocore's STS model
 * (protocol `query`, namespace https://sts.amazonaws.com/doc/2011-06-15/).
 *
 * AssumeRole hands out temporary keys (`ASIA...`) that belong to the role's account
 * (lab/accounts/directory.ts), valid DurationSeconds (900..43200, default 3600, at most the role's
 * MaxSessionDuration) on the lab clock. A role registered with POST /_lab/roles is checked as its
 * trust policy says (trusted accounts, sts:ExternalId): a mismatch answers 403 AccessDenied, as
 * AWS does, without saying which condition failed. Its identity policy, if any, binds every key
 * issued for it (lab/iam/enforcer.ts).
 */
import type { AccountDirectory, KeyIdentity } from '../accounts/directory.js';
import { parseRoleArn } from '../accounts/directory.js';
import type { IamEnforcer } from '../iam/enforcer.js';

const STS_NAMESPACE = 'https://sts.amazonaws.com/doc/2011-06-15/';

export class StsError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

function xmlEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

/** ISO 8601 without milliseconds, as STS writes Expiration. */
const isoSeconds = (ms: number): string => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');

function validation(field: string, value: string, constraint: string): StsError {
  return new StsError('ValidationError', `1 validation error detected: Value '${value}' at '${field}' failed to satisfy constraint: ${constraint}`, 400);
}

interface StsDeps {
  directory: AccountDirectory;
  iam: IamEnforcer;
  now(): number;
}

/** The XML body of a successful answer (without the envelope: `<XResult>` content). */
export function handleSts(action: string, params: URLSearchParams, caller: KeyIdentity, accessKeyId: string | undefined, d: StsDeps): string {
  if (action === 'GetCallerIdentity') {
    return `<Arn>${xmlEscape(caller.arn)}</Arn><UserId>${xmlEscape(caller.userId)}</UserId><Account>${caller.accountId}</Account>`;
  }
  if (action !== 'AssumeRole') throw new StsError('InvalidAction', `Could not find operation ${action} for version 2011-06-15`, 400);
  const roleArn = params.get('RoleArn') ?? '';
  const sessionName = params.get('RoleSessionName') ?? '';
  if (roleArn.length < 20) throw validation('roleArn', roleArn, 'Member must have length greater than or equal to 20');
  if (!/^[\w+=,.@-]{2,64}$/.test(sessionName)) {
    throw validation('roleSessionName', sessionName, 'Member must satisfy regular expression pattern: [\\w+=,.@-]* and have length between 2 and 64');
  }
  const durationText = params.get('DurationSeconds');
  const duration = durationText === null ? 3600 : Number(durationText);
  if (!Number.isInteger(duration) || duration < 900 || duration > 43200) {
    throw validation('durationSeconds', String(durationText), 'Member must have value between 900 and 43200');
  }
  const externalId = params.get('ExternalId') ?? undefined;
  if (externalId !== undefined && !/^[\w+=,.@:/-]{2,1224}$/.test(externalId)) {
    throw validation('externalId', externalId, 'Member must satisfy regular expression pattern: [\\w+=,.@:\\/-]* and have length between 2 and 1224');
  }
  const parsed = parseRoleArn(roleArn);
  const denied = (): StsError => new StsError('AccessDenied', `User: ${caller.arn} is not authorized to perform: sts:AssumeRole on resource: ${roleArn}`, 403);
  if (!parsed) throw denied();
  // The caller's identity policy (when the lab enforces one for it) must allow sts:AssumeRole on the role.
  if (d.iam.enabled && d.iam.policiesOf(accessKeyId) && d.iam.authorize(accessKeyId, [{ action: 'sts:AssumeRole', resource: roleArn, context: {} }])) {
    throw denied();
  }
  const role = d.directory.role(roleArn);
  if (role) {
    if (role.trustedAccounts && !role.trustedAccounts.includes(caller.accountId)) throw denied();
    if (role.externalId !== undefined && role.externalId !== externalId) throw denied();
    if (duration > role.maxSessionSeconds) {
      throw new StsError('ValidationError', 'The requested DurationSeconds exceeds the MaxSessionDuration set for this role.', 400);
    }
  }
  const key = d.directory.issue({ arn: roleArn, accountId: parsed.accountId }, sessionName, duration, d.now());
  if (role?.policy !== undefined) d.iam.bind(key.accessKeyId, role.policy, `role ${roleArn}`);
  const who = d.directory.identityOf(key.accessKeyId);
  return (
    `<Credentials><AccessKeyId>${key.accessKeyId}</AccessKeyId><SecretAccessKey>${xmlEscape(key.secretAccessKey)}</SecretAccessKey>` +
    `<SessionToken>${xmlEscape(key.sessionToken)}</SessionToken><Expiration>${isoSeconds(key.expiration)}</Expiration></Credentials>` +
    `<AssumedRoleUser><AssumedRoleId>${xmlEscape(who.userId)}</AssumedRoleId><Arn>${xmlEscape(who.arn)}</Arn></AssumedRoleUser>`
  );
}

export function stsSuccessXml(action: string, result: string, requestId: string): string {
  return (
    `<${action}Response xmlns="${STS_NAMESPACE}"><${action}Result>${result}</${action}Result>` +
    `<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${action}Response>`
  );
}

export function stsErrorXml(code: string, message: string, requestId: string): string {
  return (
    `<ErrorResponse xmlns="${STS_NAMESPACE}"><Error><Type>Sender</Type><Code>${xmlEscape(code)}</Code>` +
    `<Message>${xmlEscape(message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`
  );
}

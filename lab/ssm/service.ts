/**
 * SSM Parameter Store, only as far as applications use it to read Secrets Manager secrets:
 * `GetParameter` / `GetParameters` for `/aws/reference/secretsmanager/<secret-id>[:<VersionStage>|:<VersionId>]`,
 * in every Region (X-Amz-Target `AmazonSSM.<Op>`). No parameter is stored: any other name is
 * `ParameterNotFound` (GetParameters: listed in `InvalidParameters`).
 *
 * Each reference is read through the lab's Secrets Manager (`readSecret`: the same GetSecretValue
 * code path, with its quota, deny faults, replica and standalone semantics) in the caller's Region.
 * Answers as AWS documents them (SSM user guide, "Referencing Secrets Manager secrets from
 * Parameter Store"; botocore's ssm model; moto's tests; a third-party emulator's notes measured on AWS):
 * - `Parameter { Name (the reference as asked, without the selector), Type: SecureString, Value
 *   (SecretString; left out for a binary secret), Version: 0, Selector (":<stage|id>" when given),
 *   SourceResult (the GetSecretValue answer as JSON text), LastModifiedDate (the version's
 *   CreatedDate), ARN (the secret's) }`. No DataType (the lab leaves it out; never rely on it).
 * - without `WithDecryption: true`: ValidationException "WithDecryption flag must be True for
 *   retrieving a Secret Manager secret." (before the secret is looked up);
 * - a malformed selector (`a:b:c`, `a:`, an ARN as secret id): ValidationException
 *   "Invalid parameter name. Please use correct syntax for referencing a version/label  <name>:<version/label>";
 * - a missing secret, version or label: ParameterNotFound "An error occurred (ParameterNotFound)
 *   when referencing Secrets Manager: Secret <name> not found.";
 * - a secret scheduled for deletion: ValidationException "Invalid Request to Secrets Manager".
 */
import { LabError, type EmulatedService, type RequestContext } from '../types.js';

const REFERENCE_PREFIX = '/aws/reference/secretsmanager/';
const NEEDS_DECRYPTION = 'WithDecryption flag must be True for retrieving a Secret Manager secret.';
const BAD_SELECTOR = 'Invalid parameter name. Please use correct syntax for referencing a version/label  <name>:<version/label>';
/** Secrets Manager version ids (the SDKs send UUIDs; a ClientRequestToken is 32–64 printable characters). */
const VERSION_ID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** GetSecretValue in the caller's Region, through the lab's Secrets Manager path (quota, faults). */
type SecretReader = (input: { SecretId: string; VersionId?: string; VersionStage?: string }, ctx: RequestContext) => Record<string, unknown>;

interface Reference {
  /** As asked, without the selector. */
  name: string;
  secretId: string;
  selector?: string;
}

export class SsmService implements EmulatedService {
  constructor(private readonly readSecret: SecretReader) {}

  async handle(operation: string, input: Record<string, unknown>, ctx: RequestContext): Promise<unknown> {
    if (operation === 'GetParameter') return this.getParameter(input, ctx);
    if (operation === 'GetParameters') return this.getParameters(input, ctx);
    throw new LabError(
      'UnknownOperationException',
      `The lab serves only GetParameter and GetParameters of SSM (for ${REFERENCE_PREFIX} references), not ${operation}.`,
    );
  }

  reset(): void {}

  snapshot(): unknown {
    return {};
  }

  restore(): void {}

  private getParameter(input: Record<string, unknown>, ctx: RequestContext): unknown {
    const name = input.Name;
    if (typeof name !== 'string' || name.length < 1 || name.length > 2048) {
      throw validation("1 validation error detected: Value at 'name' failed to satisfy constraint: Member must have length between 1 and 2048");
    }
    const decrypt = input.WithDecryption === true;
    if (!name.startsWith(REFERENCE_PREFIX)) throw parameterNotFound();
    const ref = parseReference(name);
    if (!decrypt) throw validation(NEEDS_DECRYPTION);
    return { Parameter: this.read(ref, ctx) };
  }

  private getParameters(input: Record<string, unknown>, ctx: RequestContext): unknown {
    const names = input.Names;
    if (!Array.isArray(names) || names.length < 1 || names.some((n) => typeof n !== 'string')) {
      throw validation("1 validation error detected: Value at 'names' failed to satisfy constraint: Member must have length greater than or equal to 1");
    }
    if (names.length > 10) {
      throw validation(
        `1 validation error detected: Value '[${names.join(', ')}]' at 'names' failed to satisfy constraint: Member must have length less than or equal to 10`,
      );
    }
    const decrypt = input.WithDecryption === true;
    const parameters: Record<string, unknown>[] = [];
    const invalid: string[] = [];
    for (const name of new Set(names as string[])) {
      try {
        if (!name.startsWith(REFERENCE_PREFIX) || !decrypt) throw parameterNotFound();
        parameters.push(this.read(parseReference(name), ctx));
      } catch (e) {
        // What cannot be answered is listed; throttling, denial and outages fail the call.
        if (e instanceof LabError && (e.type === 'ParameterNotFound' || e.type === 'ValidationException')) invalid.push(name);
        else throw e;
      }
    }
    parameters.sort((a, b) => (String(a.Name) < String(b.Name) ? -1 : String(a.Name) > String(b.Name) ? 1 : 0));
    return { Parameters: parameters, InvalidParameters: invalid };
  }

  private read(ref: Reference, ctx: RequestContext): Record<string, unknown> {
    const request: { SecretId: string; VersionId?: string; VersionStage?: string } = { SecretId: ref.secretId };
    if (ref.selector !== undefined) {
      if (VERSION_ID_RE.test(ref.selector)) request.VersionId = ref.selector;
      else request.VersionStage = ref.selector;
    }
    let value: Record<string, unknown>;
    try {
      try {
        value = this.readSecret(request, ctx);
      } catch (e) {
        // A version id that is not a UUID (any 32–64 character ClientRequestToken) reads as a label first.
        if (!(e instanceof LabError && e.type === 'ResourceNotFoundException' && request.VersionStage !== undefined && request.VersionStage.length >= 32))
          throw e;
        value = this.readSecret({ SecretId: ref.secretId, VersionId: request.VersionStage }, ctx);
      }
    } catch (e) {
      if (e instanceof LabError && e.type === 'ResourceNotFoundException') {
        throw parameterNotFound(
          `An error occurred (ParameterNotFound) when referencing Secrets Manager: Secret ${ref.name}${ref.selector !== undefined ? `:${ref.selector}` : ''} not found.`,
        );
      }
      if (e instanceof LabError && (e.type === 'InvalidRequestException' || e.type === 'InvalidParameterException')) {
        throw validation('Invalid Request to Secrets Manager');
      }
      throw e;
    }
    const out: Record<string, unknown> = {
      Name: ref.name,
      Type: 'SecureString',
      Version: 0,
    };
    if (typeof value.SecretString === 'string') out.Value = value.SecretString;
    if (ref.selector !== undefined) out.Selector = `:${ref.selector}`;
    out.SourceResult = JSON.stringify(value);
    out.LastModifiedDate = value.CreatedDate;
    out.ARN = value.ARN;
    return out;
  }
}

/** `/aws/reference/secretsmanager/<id>[:<stage|versionId>]`; more than one selector is refused. */
function parseReference(name: string): Reference {
  const rest = name.slice(REFERENCE_PREFIX.length);
  const parts = rest.split(':');
  if (rest === '' || parts.length > 2 || parts[0] === '' || (parts.length === 2 && parts[1] === '')) throw validation(BAD_SELECTOR);
  const at = name.lastIndexOf(':');
  return parts.length === 2 ? { name: name.slice(0, at), secretId: parts[0]!, selector: parts[1]! } : { name, secretId: rest };
}

function validation(message: string): LabError {
  return new LabError('ValidationException', message);
}

function parameterNotFound(message = ''): LabError {
  return new LabError('ParameterNotFound', message);
}

/**
 * The errors real incidents bring besides "the Region is down": no permission, expired or invalid
 * credentials, throttling. `lab fault deny` (persistent) and `lab fault fail-next --error T` answer
 * them with AWS's HTTP status and texts, for Secrets Manager, EventBridge and SSM alike:
 *
 *   AccessDeniedException       400 "User: <caller> is not authorized to perform: <service>:<Op> on resource: <arn>
 *                                    because no identity-based policy allows the <service>:<Op> action"
 *   ExpiredTokenException       400 "The security token included in the request is expired"
 *   UnrecognizedClientException 400 "The security token included in the request is invalid."
 *   ThrottlingException         400 "Rate exceeded"
 *
 * The two credential errors come from AWS's front end, not from the service: their `__type` carries
 * the `com.amazon.coral.service#` namespace (botocore and the JS SDK strip it), and the body's key is
 * `message`. The SDKs retry ThrottlingException (a throttling code) and none of the others.
 */
import { authzRequestsOf, type IamServiceName, type RequestFacts } from './iam/requests.js';
import type { RequestContext } from './types.js';

export const INCIDENT_ERRORS = ['AccessDeniedException', 'ExpiredTokenException', 'UnrecognizedClientException', 'ThrottlingException'] as const;
export type IncidentError = (typeof INCIDENT_ERRORS)[number];

export function isIncidentError(type: string): type is IncidentError {
  return (INCIDENT_ERRORS as readonly string[]).includes(type);
}

/** The identity the lab's callers appear as in AccessDenied messages. */
const labCaller = (accountId: string): string => `arn:aws:sts::${accountId}:assumed-role/secrets-dr-lab/lab-session`;

export interface IncidentAnswer {
  type: IncidentError;
  status: number;
  message: string;
  /** Answered by AWS's front end (namespaced `__type`, `message`), not by the service. */
  frontEnd: boolean;
}

/** Which service a request is for, by its X-Amz-Target prefix, as IAM names it. */
export type IamService = IamServiceName;

export function incidentAnswer(
  type: IncidentError,
  service: IamService,
  operation: string,
  input: Record<string, unknown>,
  ctx: RequestContext,
  facts?: RequestFacts,
): IncidentAnswer {
  switch (type) {
    case 'ExpiredTokenException':
      return { type, status: 400, message: 'The security token included in the request is expired', frontEnd: true };
    case 'UnrecognizedClientException':
      return { type, status: 400, message: 'The security token included in the request is invalid.', frontEnd: true };
    case 'ThrottlingException':
      return { type, status: 400, message: 'Rate exceeded', frontEnd: false };
    case 'AccessDeniedException': {
      const action = `${service}:${operation}`;
      const resource = resourceOf(service, operation, input, ctx, facts);
      return {
        type,
        status: 400,
        message: `User: ${labCaller(ctx.accountId)} is not authorized to perform: ${action} on resource: ${resource} because no identity-based policy allows the ${action} action`,
        frontEnd: false,
      };
    }
  }
}

/** The resource IAM evaluates for the request (its first authorization request), `*` when it takes none. */
function resourceOf(service: IamService, operation: string, input: Record<string, unknown>, ctx: RequestContext, facts?: RequestFacts): string {
  const f: RequestFacts = facts ?? { region: ctx.region, accountId: ctx.accountId, secret: () => undefined, newSuffix: () => '??????' };
  const resource = authzRequestsOf(service, operation, input, f)[0]!.resource || '*';
  // A secret id that names nothing: the ARN it would have (the deny fault predates IAM enforcement; its texts stay).
  if (service === 'secretsmanager' && resource !== '*' && !resource.startsWith('arn:'))
    return `arn:aws:secretsmanager:${ctx.region}:${ctx.accountId}:secret:${resource}`;
  return resource;
}

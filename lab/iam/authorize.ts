/**
 * Glue between the lab's services and its IAM: the facts a request's authorization needs (the
 * secret an id names, its tags and key) read from the lab's own Secrets Manager, and the refusal
 * as AWS answers it (HTTP 400 AccessDeniedException naming the action and resource).
 */
import { accountOfArn, randomSuffix } from '../secrets-manager/model.js';
import type { SecretsManagerService } from '../secrets-manager/service.js';
import { LabError, type RequestContext } from '../types.js';
import type { IamEnforcer } from './enforcer.js';
import { authzRequestsOf, type IamServiceName, type KnownSecret, type RequestFacts } from './requests.js';

/** The lab's knowledge of existing secrets in the caller's Region, for authorization and denial messages. */
export function requestFacts(secretsManager: SecretsManagerService, ctx: RequestContext): RequestFacts {
  return {
    region: ctx.region,
    accountId: ctx.accountId,
    newSuffix: randomSuffix,
    secret(id: string): KnownSecret | undefined {
      const owner = accountOfArn(id);
      if (owner !== undefined && owner !== ctx.accountId) {
        // A secret of another account (a cross-account replica): its ARN and key, for the caller's identity policy.
        const rec = secretsManager.findAcrossAccounts(id);
        if (!rec) return undefined;
        return {
          arn: rec.arn,
          tags: Object.fromEntries(rec.tags.map((t) => [t.Key, t.Value])),
          ...(rec.kmsKeyId ? { kmsKeyId: rec.kmsKeyId } : {}),
          ...(rec.crossAccountPrimary ? { crossAccountReplica: true } : {}),
        };
      }
      try {
        const d = secretsManager.handleSync('DescribeSecret', { SecretId: id }, ctx) as {
          ARN?: string;
          KmsKeyId?: string;
          Tags?: Array<{ Key?: string; Value?: string }>;
          CrossAccountPrimary?: unknown;
        };
        if (!d.ARN) return undefined;
        const tags = Object.fromEntries((d.Tags ?? []).filter((t) => t.Key !== undefined).map((t) => [t.Key!, t.Value ?? '']));
        return { arn: d.ARN, tags, ...(d.KmsKeyId ? { kmsKeyId: d.KmsKeyId } : {}), ...(d.CrossAccountPrimary ? { crossAccountReplica: true } : {}) };
      } catch {
        return undefined;
      }
    },
  };
}

/** Undefined when IAM allows the call (or binds no policy to the caller); else the AccessDenied to answer. */
export function authorizeCall(
  iam: IamEnforcer,
  secretsManager: SecretsManagerService,
  service: IamServiceName,
  operation: string,
  input: Record<string, unknown>,
  ctx: RequestContext,
): LabError | undefined {
  if (!iam.enabled || !iam.policiesOf(ctx.accessKeyId)) return undefined;
  const denial = iam.authorize(ctx.accessKeyId, authzRequestsOf(service, operation, input, requestFacts(secretsManager, ctx)));
  return denial ? new LabError('AccessDeniedException', denial.message, 400) : undefined;
}

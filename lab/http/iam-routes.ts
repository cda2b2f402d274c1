/**
 * /_lab/iam: the policies the lab enforces and what it decided.
 *   GET  /_lab/iam                          {bindings: [{accessKeyId ('*' = every caller), policies, sources}], record}
 *   GET  /_lab/iam/record?accessKeyId=      per access key and action: {allowed, denied, resources (a few), lastDenial}
 *   POST /_lab/iam/record/reset             forget the record
 *   POST /_lab/iam/policy                   {policy, accessKeyId? (default '*': every caller)} adds a policy
 *   POST /_lab/iam/unbind                   {accessKeyId? (default '*')} drops that binding's policies
 */
import type { LabCore } from '../core.js';
import { EVERY_CALLER } from '../iam/enforcer.js';
import { PolicyError } from '../iam/policy.js';
import { BadLabRequest, type LabRoutes } from './lab-request.js';

function accessKeyOf(b: Record<string, unknown>): string {
  if (b.accessKeyId === undefined) return EVERY_CALLER;
  if (typeof b.accessKeyId !== 'string' || b.accessKeyId === '' || /[\s=]/.test(b.accessKeyId)) {
    throw new BadLabRequest('"accessKeyId" must be an access key id (no spaces or "="), or left out for every caller');
  }
  return b.accessKeyId;
}

export function iamRoutes(core: Pick<LabCore, 'iam'>): LabRoutes {
  const { iam } = core;
  return {
    'GET /_lab/iam': () => ({ bindings: iam.describe(), record: iam.recorded() }),
    'GET /_lab/iam/record': (_b, q) => iam.recorded(q.get('accessKeyId') ?? undefined),
    'POST /_lab/iam/record/reset': () => {
      iam.resetRecord();
      return { ok: true };
    },
    'POST /_lab/iam/policy': (b) => {
      const key = accessKeyOf(b);
      if (b.policy === undefined) throw new BadLabRequest('"policy" is required: an IAM policy document {"Version": "2012-10-17", "Statement": [...]}');
      try {
        iam.bind(key, b.policy, `POST /_lab/iam/policy (${key})`);
      } catch (e) {
        if (e instanceof PolicyError) throw new BadLabRequest(e.message);
        throw e;
      }
      return { ok: true, accessKeyId: key, bindings: iam.describe() };
    },
    'POST /_lab/iam/unbind': (b) => ({ ok: iam.unbind(accessKeyOf(b)) }),
  };
}

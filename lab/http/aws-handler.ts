/**
 * One AWS API request, from X-Amz-Target to the answer. Per request:
 * route → SigV4 scope (access key, Region) → count → the key's account (revoked account: UnrecognizedClientException;
 * expired STS key: ExpiredTokenException; lab/accounts/directory.ts) → outage fault → latency fault → parse →
 * deny fault → IAM policy (lab/iam/) → fail-next fault → quota bucket (per account and Region) → operation,
 * served by the services of the key's account.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AccountServices } from '../accounts/services.js';
import { quotaKey } from '../accounts/services.js';
import type { LabCore } from '../core.js';
import { statusForError } from '../faults.js';
import { authorizeCall, requestFacts } from '../iam/authorize.js';
import { incidentAnswer, isIncidentError, type IamService } from '../incident-errors.js';
import { LabError, type EmulatedService, type RequestContext } from '../types.js';
import { credentialScope, sendAwsError, sendIncident, sendJson } from './aws-protocol.js';

const headerValue = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v[0] : v);

/** Operations that never change state (the state file is not re-written after them). */
const READ_ONLY = /^(Describe|Get|List|BatchGet|Validate|Test)/;

interface Route {
  service: (a: AccountServices) => EmulatedService;
  counterPrefix: string;
  iam: IamService;
}

function routeOf(prefix: string): Route | undefined {
  if (prefix === 'secretsmanager') return { service: (a) => a.secretsManager, counterPrefix: '', iam: 'secretsmanager' };
  if (prefix === 'AWSEvents') return { service: (a) => a.eventBridge, counterPrefix: 'events:', iam: 'events' };
  if (prefix === 'AmazonSSM') return { service: (a) => a.ssm, counterPrefix: 'ssm:', iam: 'ssm' };
  return undefined;
}

export function createAwsHandler(core: LabCore): (req: IncomingMessage, res: ServerResponse, body: string) => Promise<void> {
  const { faults, counters, quotas, regions, regionSet, clock, log, directory } = core;

  return async (req, res, body) => {
    const requestId = randomUUID();
    const target = String(req.headers['x-amz-target'] ?? '');
    const dot = target.indexOf('.');
    const routed = dot > 0 ? routeOf(target.slice(0, dot)) : undefined;
    if (!routed) {
      sendAwsError(res, 'UnknownOperationException', `The lab does not serve X-Amz-Target "${target}".`, 400, requestId);
      return;
    }
    const operation = target.slice(dot + 1);
    const sm = routed.iam === 'secretsmanager';
    const scope = credentialScope(String(req.headers.authorization ?? ''));
    if (!scope) {
      sendAwsError(
        res,
        'MissingAuthenticationTokenException',
        'Missing or malformed SigV4 Authorization header: the lab reads the Region from its credential scope.',
        400,
        requestId,
        sm,
      );
      return;
    }
    const { region, accessKeyId } = scope;
    if (!regionSet.has(region)) {
      sendAwsError(res, 'UnrecognizedClientException', `The lab does not serve Region ${region} (serving: ${regions.join(', ')}).`, 400, requestId, sm);
      return;
    }
    // Counted for the key's account (also a revoked one: its refused calls show in its counters).
    const counts = counters.call(region, routed.counterPrefix + operation, directory.accountOf(accessKeyId));
    const refusal = directory.refusal(accessKeyId, clock.now(), headerValue(req.headers['x-amz-security-token']));
    if (refusal) {
      counts.failed++;
      sendIncident(res, incidentAnswer(refusal, routed.iam, operation, {}, { region, accountId: core.accountId, requestId, clock }), requestId, sm);
      return;
    }
    const identity = directory.identityOf(accessKeyId);
    const accountId = identity.accountId;
    const services = core.account(accountId);
    const secretsManager = services.secretsManager;
    const service = routed.service(services);

    if (faults.hasAny(region)) {
      // Outage (re-checked after a hang is released: the mode may have changed meanwhile).
      for (let mode = faults.outage(region); mode; mode = faults.outage(region)) {
        if (mode === 'refuse') {
          counts.failed++;
          req.socket.destroy();
          return;
        }
        if (mode === 'error') {
          counts.failed++;
          sendAwsError(res, 'ServiceUnavailableException', `Service unavailable in ${region} (lab outage fault).`, 503, requestId, sm);
          return;
        }
        const wait = faults.waitWhileHanging(region);
        const onGone = (): void => wait.cancel();
        req.socket.once('close', onGone);
        const released = await wait.promise;
        req.socket.off('close', onGone);
        if (!released || req.socket.destroyed) {
          counts.failed++;
          req.socket.destroy();
          return;
        }
      }
      const delay = faults.latencyFor(region);
      if (delay > 0) await new Promise((r) => setTimeout(r, delay));
    }

    let input: Record<string, unknown>;
    try {
      const parsed: unknown = body.length === 0 ? {} : JSON.parse(body);
      if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not an object');
      input = parsed as Record<string, unknown>;
    } catch {
      counts.failed++;
      sendAwsError(res, 'SerializationException', 'The request body is not a JSON object.', 400, requestId, sm);
      return;
    }

    const ctx: RequestContext = { region, accountId, accessKeyId, principalArn: identity.arn, requestId, clock };
    if (faults.anyDenials) {
      const denied = faults.deniedWith(region, operation, routed.counterPrefix + operation);
      if (denied) {
        counts.failed++;
        sendIncident(res, incidentAnswer(denied, routed.iam, operation, input, ctx, requestFacts(secretsManager, ctx)), requestId, sm);
        return;
      }
    }

    const refused = authorizeCall(core.iam, secretsManager, routed.iam, operation, input, ctx);
    if (refused) {
      counts.failed++;
      sendAwsError(res, refused.type, refused.message, refused.status, requestId, sm);
      return;
    }

    if (faults.hasAny(region)) {
      const sid = typeof input.SecretId === 'string' ? input.SecretId : typeof input.Name === 'string' ? input.Name : undefined;
      const injected =
        faults.takeFailNext(region, operation, sid) ?? (routed.counterPrefix ? faults.takeFailNext(region, routed.counterPrefix + operation, sid) : undefined);
      if (injected) {
        counts.failed++;
        if (isIncidentError(injected))
          sendIncident(res, incidentAnswer(injected, routed.iam, operation, input, ctx, requestFacts(secretsManager, ctx)), requestId, sm);
        else sendAwsError(res, injected, `Injected fault: ${injected} (fail-next ${operation} in ${region}).`, statusForError(injected), requestId, sm);
        return;
      }
    }

    if (sm && !quotas.admit(quotaKey(core.accountId, accountId, region), operation, (g) => faults.throttleFor(region, g))) {
      counts.throttled++;
      sendAwsError(res, 'ThrottlingException', 'Rate exceeded', 400, requestId, sm);
      return;
    }

    try {
      const out = sm ? secretsManager.handleSync(operation, input, ctx) : await service.handle(operation, input, ctx);
      if (!READ_ONLY.test(operation)) core.markDirty();
      sendJson(res, 200, out, requestId);
    } catch (e) {
      counts.failed++;
      if (e instanceof LabError) {
        sendAwsError(res, e.type, e.message, e.status, requestId, sm);
      } else {
        log(`lab: ${target} in ${region} failed: ${(e as Error).stack ?? String(e)}`);
        sendAwsError(res, 'InternalServiceError', 'An error occurred on the server side (lab bug).', 500, requestId, sm);
      }
    }
  };
}

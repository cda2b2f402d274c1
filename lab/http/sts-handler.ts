/**
 * The lab's STS endpoint (`AWS_ENDPOINT_URL_STS` = the lab's URL): form-encoded Query requests
 * (`Action=AssumeRole|GetCallerIdentity`), answered in XML (lab/sts/service.ts). The caller's key is
 * read from the SigV4 credential scope (service `sts`, any Region the lab knows); a key of a revoked
 * account answers 403 InvalidClientTokenId, an expired temporary key 400 ExpiredToken.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { LabCore } from '../core.js';
import { handleSts, StsError, stsErrorXml, stsSuccessXml } from '../sts/service.js';
import { credentialScope } from './aws-protocol.js';

/** True for a request STS's Query protocol sends (no X-Amz-Target, a form body). */
export function isStsRequest(req: IncomingMessage): boolean {
  return req.method === 'POST' && !req.headers['x-amz-target'] && String(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded');
}

function send(res: ServerResponse, status: number, xml: string, requestId: string): void {
  res.writeHead(status, { 'Content-Type': 'text/xml', 'Content-Length': Buffer.byteLength(xml), 'x-amzn-RequestId': requestId });
  res.end(xml);
}

export function createStsHandler(core: LabCore): (req: IncomingMessage, res: ServerResponse, body: string) => void {
  return (req, res, body) => {
    const requestId = randomUUID();
    const params = new URLSearchParams(body);
    const action = params.get('Action') ?? '';
    const fail = (e: StsError): void => send(res, e.status, stsErrorXml(e.code, e.message, requestId), requestId);
    const scope = credentialScope(String(req.headers.authorization ?? ''));
    if (!scope) {
      fail(new StsError('MissingAuthenticationToken', 'Request is missing Authentication Token', 403));
      return;
    }
    const counts = core.counters.call(scope.region, `sts:${action}`, core.directory.accountOf(scope.accessKeyId));
    const token = req.headers['x-amz-security-token'];
    const refusal = core.directory.refusal(scope.accessKeyId, core.clock.now(), Array.isArray(token) ? token[0] : token);
    if (refusal) {
      counts.failed++;
      fail(
        refusal === 'ExpiredTokenException'
          ? new StsError('ExpiredToken', 'The security token included in the request is expired', 400)
          : new StsError('InvalidClientTokenId', 'The security token included in the request is invalid.', 403),
      );
      return;
    }
    try {
      const caller = core.directory.identityOf(scope.accessKeyId);
      const result = handleSts(action, params, caller, scope.accessKeyId, { directory: core.directory, iam: core.iam, now: () => core.clock.now() });
      send(res, 200, stsSuccessXml(action, result, requestId), requestId);
    } catch (e) {
      counts.failed++;
      if (e instanceof StsError) fail(e);
      else {
        core.log(`lab: STS ${action} failed: ${(e as Error).stack ?? String(e)}`);
        fail(new StsError('InternalFailure', 'An error occurred on the server side (lab bug).', 500));
      }
    }
  };
}

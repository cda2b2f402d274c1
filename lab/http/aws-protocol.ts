/**
 * The AWS JSON 1.1 wire format of the lab's answers, and what it reads from a request's SigV4
 * Authorization header (access key id and Region of the credential scope; signatures are not verified).
 */
import type { ServerResponse } from 'node:http';
import type { IncidentAnswer } from '../incident-errors.js';

const JSON_11 = 'application/x-amz-json-1.1';
const CREDENTIAL_RE = /Credential=([^/,\s]+)\/\d{8}\/([^/]+)\/([^/]+)\/aws4_request/;

export interface SigV4Scope {
  accessKeyId: string;
  region: string;
}

export function credentialScope(authorization: string): SigV4Scope | undefined {
  const m = CREDENTIAL_RE.exec(authorization);
  return m ? { accessKeyId: m[1]!, region: m[2]! } : undefined;
}

export function sendJson(res: ServerResponse, status: number, body: unknown, requestId: string, errorType?: string): void {
  const text = body === undefined ? '{}' : JSON.stringify(body);
  const headers: Record<string, string | number> = {
    'Content-Type': JSON_11,
    'Content-Length': Buffer.byteLength(text),
    'x-amzn-RequestId': requestId,
  };
  if (errorType) headers['x-amzn-ErrorType'] = errorType;
  res.writeHead(status, headers);
  res.end(text);
}

/**
 * An AWS JSON error. Secrets Manager's bodies carry `Message` (recorded); EventBridge's and the
 * front door's (before a service is known) carry `message`.
 */
export function sendAwsError(res: ServerResponse, type: string, message: string, status: number, requestId: string, capitalMessage = false): void {
  sendJson(res, status, !message ? { __type: type } : capitalMessage ? { __type: type, Message: message } : { __type: type, message }, requestId, type);
}

/** An incident error (deny, fail-next): the credential errors as AWS's front end sends them. */
export function sendIncident(res: ServerResponse, a: IncidentAnswer, requestId: string, capitalMessage = false): void {
  if (a.frontEnd) {
    sendJson(
      res,
      a.status,
      { __type: `com.amazon.coral.service#${a.type}`, message: a.message },
      requestId,
      `${a.type}:http://internal.amazon.com/coral/com.amazon.coral.service/`,
    );
  } else {
    sendAwsError(res, a.type, a.message, a.status, requestId, capitalMessage);
  }
}

/** The HTTP request an API destination target gets for one event: URL (path and query parameters), auth header, body. */
import type { ApiDestinationRecord, ConnectionRecord, TargetRecord } from './model.js';
import { evaluateJsonPath, targetInput } from './transform.js';

/** A header/query/path value: literal, or a JSONPath into the original event when it starts with `$.`. */
function dynamicValue(value: string, event: Record<string, unknown>): string {
  if (!value.startsWith('$.')) return value;
  const v = evaluateJsonPath(value, event);
  if (v === undefined || v === null) return '';
  return typeof v === 'string' ? v : JSON.stringify(v);
}

export function buildRequest(
  dest: ApiDestinationRecord,
  conn: ConnectionRecord,
  target: TargetRecord,
  event: Record<string, unknown>,
  tctx: { ruleArn: string; ruleName: string; ingestionTime: string },
): { url: string; method: string; headers: Record<string, string>; body?: string } {
  const http = target.HttpParameters ?? {};
  const pathValues = [...(http.PathParameterValues ?? [])];
  const endpoint = dest.InvocationEndpoint.replace(/\*/g, () => encodeURIComponent(dynamicValue(pathValues.shift() ?? '', event)));
  const url = new URL(endpoint);
  const invocation = conn.AuthParameters.InvocationHttpParameters ?? {};
  for (const p of invocation.QueryStringParameters ?? []) url.searchParams.append(p.Key, p.Value ?? '');
  for (const [k, v] of Object.entries(http.QueryStringParameters ?? {})) url.searchParams.append(k, dynamicValue(v, event));

  const headers: Record<string, string> = {
    'content-type': 'application/json; charset=utf-8',
    'user-agent': 'Amazon/EventBridge/ApiDestinations',
  };
  for (const p of invocation.HeaderParameters ?? []) headers[p.Key.toLowerCase()] = p.Value ?? '';
  for (const [k, v] of Object.entries(http.HeaderParameters ?? {})) headers[k.toLowerCase()] = dynamicValue(v, event);
  const auth = conn.AuthParameters;
  if (conn.AuthorizationType === 'API_KEY') {
    headers[auth.ApiKeyAuthParameters!.ApiKeyName!.toLowerCase()] = auth.ApiKeyAuthParameters!.ApiKeyValue ?? '';
  } else if (conn.AuthorizationType === 'BASIC') {
    const b = auth.BasicAuthParameters!;
    headers.authorization = `Basic ${Buffer.from(`${b.Username}:${b.Password}`).toString('base64')}`;
  } else {
    throw new Error('OAUTH_CLIENT_CREDENTIALS connections are not emulated by the lab (no token endpoint call).');
  }

  let body: string | undefined = targetInput(target, event, tctx);
  const bodyParams = invocation.BodyParameters ?? [];
  if (bodyParams.length > 0) {
    try {
      const parsed: unknown = JSON.parse(body);
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) {
        for (const p of bodyParams) (parsed as Record<string, unknown>)[p.Key] = p.Value ?? '';
        body = JSON.stringify(parsed);
      }
    } catch {
      // not a JSON object: body parameters do not apply
    }
  }
  if (dest.HttpMethod === 'GET' || dest.HttpMethod === 'HEAD') body = undefined;
  return { url: url.toString(), method: dest.HttpMethod, headers, ...(body !== undefined ? { body } : {}) };
}

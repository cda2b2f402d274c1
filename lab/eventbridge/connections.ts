/**
 * Connections (the auth an API destination sends: API key, basic, OAuth client credentials): create,
 * update (partial auth updates merge), describe (secrets redacted), delete, list.
 */
import { randomUUID } from 'node:crypto';
import { LabError, type RequestContext } from '../types.js';
import type { AuthParameters, ConnectionParam, ConnectionRecord, Input, InvocationHttpParameters, RegionState } from './model.js';
import type { Regions } from './regions.js';
import { clean, deepCopy, epochSeconds, notFound, optionalString, listByName, requireString, RULE_NAME, validation } from './shared.js';

const AUTH_TYPES = new Set(['BASIC', 'API_KEY', 'OAUTH_CLIENT_CREDENTIALS']);

function requireConnection(rs: RegionState, input: Input): ConnectionRecord {
  const name = requireString(input, 'Name', RULE_NAME);
  const conn = rs.connections.find((c) => c.Name === name);
  if (!conn) throw notFound(`Failed to describe the connection(s). Connection '${name}' does not exist.`);
  return conn;
}

export function createConnection(st: Regions, input: Input, ctx: RequestContext): unknown {
  const rs = st.regionOf(ctx);
  const name = requireString(input, 'Name', RULE_NAME);
  if (rs.connections.some((c) => c.Name === name)) {
    throw new LabError('ResourceAlreadyExistsException', `Connection ${name} already exists.`);
  }
  const type = requireString(input, 'AuthorizationType');
  if (!AUTH_TYPES.has(type)) {
    throw validation(
      `1 validation error detected: Value '${type}' at 'authorizationType' failed to satisfy constraint: Member must satisfy enum value set: [BASIC, OAUTH_CLIENT_CREDENTIALS, API_KEY]`,
    );
  }
  const auth = validateAuthParameters(type, input.AuthParameters, true);
  const now = st.clock.now();
  const id = randomUUID();
  const conn: ConnectionRecord = clean({
    Name: name,
    Arn: `arn:aws:events:${rs.region}:${rs.accountId}:connection/${name}/${id}`,
    Description: optionalString(input, 'Description'),
    AuthorizationType: type,
    AuthParameters: auth,
    ConnectionState: 'AUTHORIZED',
    SecretArn: `arn:aws:secretsmanager:${rs.region}:${rs.accountId}:secret:events!connection/${name}/${id}-${randomSuffix()}`,
    CreationTime: now,
    LastModifiedTime: now,
    LastAuthorizedTime: now,
  });
  rs.connections.push(conn);
  return connectionSummary(conn);
}

export function updateConnection(st: Regions, input: Input, ctx: RequestContext): unknown {
  const conn = requireConnection(st.regionOf(ctx), input);
  const type = optionalString(input, 'AuthorizationType') ?? conn.AuthorizationType;
  if (!AUTH_TYPES.has(type)) throw validation(`Value '${type}' at 'authorizationType' failed to satisfy constraint`);
  if (input.AuthParameters !== undefined || type !== conn.AuthorizationType) {
    const merged = mergeAuth(type === conn.AuthorizationType ? conn.AuthParameters : {}, (input.AuthParameters ?? {}) as AuthParameters);
    conn.AuthParameters = validateAuthParameters(type, merged, true);
    conn.AuthorizationType = type;
  }
  const description = optionalString(input, 'Description');
  if (description !== undefined) conn.Description = description;
  const now = st.clock.now();
  conn.LastModifiedTime = now;
  conn.LastAuthorizedTime = now;
  return { ...connectionSummary(conn), LastAuthorizedTime: epochSeconds(conn.LastAuthorizedTime) };
}

export function describeConnection(st: Regions, input: Input, ctx: RequestContext): unknown {
  const conn = requireConnection(st.regionOf(ctx), input);
  return clean({
    ConnectionArn: conn.Arn,
    Name: conn.Name,
    Description: conn.Description,
    ConnectionState: conn.ConnectionState,
    AuthorizationType: conn.AuthorizationType,
    SecretArn: conn.SecretArn,
    AuthParameters: redactAuth(conn.AuthParameters),
    CreationTime: epochSeconds(conn.CreationTime),
    LastModifiedTime: epochSeconds(conn.LastModifiedTime),
    LastAuthorizedTime: epochSeconds(conn.LastAuthorizedTime),
  });
}

export function deleteConnection(st: Regions, input: Input, ctx: RequestContext): unknown {
  const rs = st.regionOf(ctx);
  const conn = requireConnection(rs, input);
  rs.connections = rs.connections.filter((c) => c !== conn);
  return {
    ConnectionArn: conn.Arn,
    ConnectionState: 'DELETING',
    CreationTime: epochSeconds(conn.CreationTime),
    LastModifiedTime: epochSeconds(st.clock.now()),
    LastAuthorizedTime: epochSeconds(conn.LastAuthorizedTime),
  };
}

export function listConnections(st: Regions, input: Input, ctx: RequestContext): unknown {
  const state = optionalString(input, 'ConnectionState');
  const summary = (c: ConnectionRecord) =>
    clean({
      ConnectionArn: c.Arn,
      Name: c.Name,
      ConnectionState: c.ConnectionState,
      AuthorizationType: c.AuthorizationType,
      CreationTime: epochSeconds(c.CreationTime),
      LastModifiedTime: epochSeconds(c.LastModifiedTime),
      LastAuthorizedTime: epochSeconds(c.LastAuthorizedTime),
    });
  return listByName(st.regionOf(ctx).connections, input, 'Connections', summary, (c) => state === undefined || c.ConnectionState === state);
}

function validateAuthParameters(type: string, raw: unknown, requireSecrets: boolean): AuthParameters {
  if (!raw || typeof raw !== 'object') throw validation('AuthParameters is required.');
  const auth = deepCopy(raw) as AuthParameters;
  if (type === 'API_KEY') {
    const p = auth.ApiKeyAuthParameters;
    if (!p || typeof p.ApiKeyName !== 'string' || p.ApiKeyName === '' || (requireSecrets && (typeof p.ApiKeyValue !== 'string' || p.ApiKeyValue === ''))) {
      throw validation('ApiKeyAuthParameters with ApiKeyName and ApiKeyValue are required for AuthorizationType API_KEY.');
    }
  } else if (type === 'BASIC') {
    const p = auth.BasicAuthParameters;
    if (!p || typeof p.Username !== 'string' || p.Username === '' || (requireSecrets && (typeof p.Password !== 'string' || p.Password === ''))) {
      throw validation('BasicAuthParameters with Username and Password are required for AuthorizationType BASIC.');
    }
  } else {
    const p = auth.OAuthParameters;
    if (!p || !p.ClientParameters || typeof p.AuthorizationEndpoint !== 'string' || typeof p.HttpMethod !== 'string') {
      throw validation(
        'OAuthParameters with ClientParameters, AuthorizationEndpoint and HttpMethod are required for AuthorizationType OAUTH_CLIENT_CREDENTIALS.',
      );
    }
  }
  for (const group of ['HeaderParameters', 'QueryStringParameters', 'BodyParameters'] as const) {
    const list = auth.InvocationHttpParameters?.[group];
    if (list !== undefined && (!Array.isArray(list) || !list.every((p) => p && typeof p.Key === 'string'))) {
      throw validation(`InvocationHttpParameters.${group} must be a list of {Key, Value, IsValueSecret}.`);
    }
  }
  return auth;
}

function mergeAuth(current: AuthParameters, update: AuthParameters): AuthParameters {
  const out: AuthParameters = deepCopy(current);
  for (const key of Object.keys(update) as Array<keyof AuthParameters>) {
    const value = update[key];
    if (value && typeof value === 'object' && !Array.isArray(value)) {
      (out as Record<string, unknown>)[key] = { ...((out[key] as object | undefined) ?? {}), ...deepCopy(value) };
    }
  }
  return out;
}

/** What DescribeConnection shows: never the API key value, password, client secret or secret parameters. */
function redactAuth(auth: AuthParameters): AuthParameters {
  const out: AuthParameters = {};
  if (auth.ApiKeyAuthParameters) out.ApiKeyAuthParameters = { ApiKeyName: auth.ApiKeyAuthParameters.ApiKeyName! };
  if (auth.BasicAuthParameters) out.BasicAuthParameters = { Username: auth.BasicAuthParameters.Username! };
  if (auth.OAuthParameters) {
    const o = auth.OAuthParameters;
    out.OAuthParameters = clean({
      ClientParameters: { ClientID: o.ClientParameters?.ClientID ?? '' },
      AuthorizationEndpoint: o.AuthorizationEndpoint,
      HttpMethod: o.HttpMethod,
      OAuthHttpParameters: o.OAuthHttpParameters ? redactHttp(o.OAuthHttpParameters) : undefined,
    });
  }
  if (auth.InvocationHttpParameters) out.InvocationHttpParameters = redactHttp(auth.InvocationHttpParameters);
  return out;
}

function redactHttp(p: InvocationHttpParameters): InvocationHttpParameters {
  const hide = (list?: ConnectionParam[]) => list?.map((x) => (x.IsValueSecret ? { Key: x.Key, IsValueSecret: true } : { ...x }));
  return clean({
    HeaderParameters: hide(p.HeaderParameters),
    QueryStringParameters: hide(p.QueryStringParameters),
    BodyParameters: hide(p.BodyParameters),
  });
}

function connectionSummary(conn: ConnectionRecord): Record<string, unknown> {
  return {
    ConnectionArn: conn.Arn,
    ConnectionState: conn.ConnectionState,
    CreationTime: epochSeconds(conn.CreationTime),
    LastModifiedTime: epochSeconds(conn.LastModifiedTime),
  };
}

function randomSuffix(): string {
  const chars = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
  let s = '';
  for (let i = 0; i < 6; i++) s += chars[Math.floor(Math.random() * chars.length)];
  return s;
}

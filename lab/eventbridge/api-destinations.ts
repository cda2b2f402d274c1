/** API destinations (an HTTP endpoint + a connection): create, update, describe, delete, list. */
import { randomUUID } from 'node:crypto';
import { LabError, type RequestContext } from '../types.js';
import type { ApiDestinationRecord, Input, RegionState } from './model.js';
import type { Regions } from './regions.js';
import { clean, epochSeconds, notFound, optionalString, listByName, requireString, RULE_NAME, validation } from './shared.js';

const HTTP_METHODS = new Set(['POST', 'GET', 'HEAD', 'OPTIONS', 'PUT', 'PATCH', 'DELETE']);

function requireDestination(rs: RegionState, input: Input): ApiDestinationRecord {
  const name = requireString(input, 'Name', RULE_NAME);
  const dest = rs.apiDestinations.find((d) => d.Name === name);
  if (!dest) throw notFound(`Failed to describe the api-destination(s). An api-destination '${name}' does not exist.`);
  return dest;
}

export function createApiDestination(st: Regions, input: Input, ctx: RequestContext): unknown {
  const rs = st.regionOf(ctx);
  const name = requireString(input, 'Name', RULE_NAME);
  if (rs.apiDestinations.some((d) => d.Name === name)) {
    throw new LabError('ResourceAlreadyExistsException', `An api-destination '${name}' already exists.`);
  }
  const connectionArn = requireString(input, 'ConnectionArn');
  if (!rs.connections.some((c) => c.Arn === connectionArn)) {
    throw notFound(`Connection '${connectionArn}' does not exist.`);
  }
  const endpoint = validateEndpoint(requireString(input, 'InvocationEndpoint'));
  const method = validateMethod(requireString(input, 'HttpMethod'));
  const rate = validateRate(input.InvocationRateLimitPerSecond);
  const now = st.clock.now();
  const dest: ApiDestinationRecord = clean({
    Name: name,
    Arn: `arn:aws:events:${rs.region}:${rs.accountId}:api-destination/${name}/${randomUUID()}`,
    Description: optionalString(input, 'Description'),
    ConnectionArn: connectionArn,
    InvocationEndpoint: endpoint,
    HttpMethod: method,
    InvocationRateLimitPerSecond: rate ?? 300,
    ApiDestinationState: 'ACTIVE',
    CreationTime: now,
    LastModifiedTime: now,
  });
  rs.apiDestinations.push(dest);
  return destinationSummary(dest);
}

export function updateApiDestination(st: Regions, input: Input, ctx: RequestContext): unknown {
  const rs = st.regionOf(ctx);
  const dest = requireDestination(rs, input);
  const connectionArn = optionalString(input, 'ConnectionArn');
  if (connectionArn !== undefined) {
    if (!rs.connections.some((c) => c.Arn === connectionArn)) throw notFound(`Connection '${connectionArn}' does not exist.`);
    dest.ConnectionArn = connectionArn;
  }
  const endpoint = optionalString(input, 'InvocationEndpoint');
  if (endpoint !== undefined) dest.InvocationEndpoint = validateEndpoint(endpoint);
  const method = optionalString(input, 'HttpMethod');
  if (method !== undefined) dest.HttpMethod = validateMethod(method);
  const rate = validateRate(input.InvocationRateLimitPerSecond);
  if (rate !== undefined) dest.InvocationRateLimitPerSecond = rate;
  const description = optionalString(input, 'Description');
  if (description !== undefined) dest.Description = description;
  dest.LastModifiedTime = st.clock.now();
  return destinationSummary(dest);
}

export function describeApiDestination(st: Regions, input: Input, ctx: RequestContext): unknown {
  const d = requireDestination(st.regionOf(ctx), input);
  return destinationOutput(d);
}

export function deleteApiDestination(st: Regions, input: Input, ctx: RequestContext): unknown {
  const rs = st.regionOf(ctx);
  const dest = requireDestination(rs, input);
  rs.apiDestinations = rs.apiDestinations.filter((d) => d !== dest);
  return {};
}

export function listApiDestinations(st: Regions, input: Input, ctx: RequestContext): unknown {
  const connectionArn = optionalString(input, 'ConnectionArn');
  const summary = (d: ApiDestinationRecord) => {
    const { Description: _d, ...rest } = destinationOutput(d) as Record<string, unknown>;
    return { ...rest, ApiDestinationArn: d.Arn };
  };
  return listByName(
    st.regionOf(ctx).apiDestinations,
    input,
    'ApiDestinations',
    summary,
    (d) => connectionArn === undefined || d.ConnectionArn === connectionArn,
  );
}

function destinationSummary(d: ApiDestinationRecord): unknown {
  return {
    ApiDestinationArn: d.Arn,
    ApiDestinationState: d.ApiDestinationState,
    CreationTime: epochSeconds(d.CreationTime),
    LastModifiedTime: epochSeconds(d.LastModifiedTime),
  };
}

function destinationOutput(d: ApiDestinationRecord): unknown {
  return clean({
    ApiDestinationArn: d.Arn,
    Name: d.Name,
    Description: d.Description,
    ApiDestinationState: d.ApiDestinationState,
    ConnectionArn: d.ConnectionArn,
    InvocationEndpoint: d.InvocationEndpoint,
    HttpMethod: d.HttpMethod,
    InvocationRateLimitPerSecond: d.InvocationRateLimitPerSecond,
    CreationTime: epochSeconds(d.CreationTime),
    LastModifiedTime: epochSeconds(d.LastModifiedTime),
  });
}

/** AWS requires HTTPS; the lab also accepts http:// so that local receivers work. */
function validateEndpoint(endpoint: string): string {
  let url: URL;
  try {
    url = new URL(endpoint.replace(/\*/g, 'x'));
  } catch {
    throw validation(`1 validation error detected: Value '${endpoint}' at 'invocationEndpoint' failed to satisfy constraint: Member must be a valid URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw validation(`InvocationEndpoint ${endpoint} must use HTTPS.`);
  }
  return endpoint;
}

function validateMethod(method: string): string {
  if (!HTTP_METHODS.has(method)) {
    throw validation(
      `1 validation error detected: Value '${method}' at 'httpMethod' failed to satisfy constraint: Member must satisfy enum value set: [POST, GET, HEAD, OPTIONS, PUT, PATCH, DELETE]`,
    );
  }
  return method;
}

function validateRate(raw: unknown): number | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (typeof raw !== 'number' || !Number.isInteger(raw) || raw < 1) {
    throw validation(
      `1 validation error detected: Value '${String(raw)}' at 'invocationRateLimitPerSecond' failed to satisfy constraint: Member must have value greater than or equal to 1`,
    );
  }
  return raw;
}

/**
 * PutEvents: each entry validated like AWS (per-entry error codes, aws.* sources refused, 256 KB), then
 * accepted by its bus (delivery.ts); an entry for a bus that does not exist is accepted and dropped, as AWS does.
 */
import { randomUUID } from 'node:crypto';
import type { RequestContext } from '../types.js';
import type { Input, RegionState } from './model.js';
import type { Regions } from './regions.js';
import type { Delivery } from './delivery.js';
import { isoSeconds, validation } from './shared.js';

export function putEvents(st: Regions, delivery: Delivery, log: (line: string) => void, input: Input, ctx: RequestContext): unknown {
  const entries = input.Entries;
  if (!Array.isArray(entries) || entries.length === 0) {
    throw validation("1 validation error detected: Value null at 'entries' failed to satisfy constraint: Member must not be null");
  }
  if (entries.length > 10) {
    throw validation(
      `1 validation error detected: Value '${JSON.stringify(entries).slice(0, 200)}' at 'entries' failed to satisfy constraint: Member must have length less than or equal to 10`,
    );
  }
  const rs = st.regionOf(ctx);
  let failed = 0;
  const results = entries.map((raw: unknown) => {
    const result = putEntry(st, delivery, log, rs, (raw ?? {}) as Input, ctx);
    if ('ErrorCode' in result) failed++;
    return result;
  });
  return { FailedEntryCount: failed, Entries: results };
}

function putEntry(
  st: Regions,
  delivery: Delivery,
  log: (line: string) => void,
  rs: RegionState,
  entry: Input,
  ctx: RequestContext,
): { EventId: string } | { ErrorCode: string; ErrorMessage: string } {
  const invalid = (field: string, reason: string) => ({
    ErrorCode: 'InvalidArgument',
    ErrorMessage: `Parameter ${field} is not valid. Reason: ${reason}`,
  });
  const { Source, DetailType, Detail, Resources, Time } = entry;
  if (typeof Source !== 'string' || Source === '') return invalid('Source', 'Source is a required argument.');
  if (typeof DetailType !== 'string' || DetailType === '') return invalid('DetailType', 'DetailType is a required argument.');
  if (typeof Detail !== 'string' || Detail === '') return invalid('Detail', 'Detail is a required argument.');
  if (Source.startsWith('aws.')) {
    return { ErrorCode: 'NotAuthorizedForSourceException', ErrorMessage: 'Not authorized for the source.' };
  }
  let detail: unknown;
  try {
    detail = JSON.parse(Detail);
  } catch {
    return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' };
  }
  if (!detail || typeof detail !== 'object' || Array.isArray(detail)) {
    return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' };
  }
  if (Resources !== undefined && (!Array.isArray(Resources) || !Resources.every((r) => typeof r === 'string'))) {
    return invalid('Resources', 'Resources must be a list of strings.');
  }
  if (Buffer.byteLength(JSON.stringify(entry)) > 256 * 1024) {
    return { ErrorCode: 'InvalidArgument', ErrorMessage: 'Total size of the entries in the request is over the limit.' };
  }
  let busName: string;
  try {
    busName = st.busName(rs, entry);
  } catch (err) {
    return { ErrorCode: 'InvalidArgument', ErrorMessage: (err as Error).message };
  }
  const timeMs = typeof Time === 'number' ? Time * 1000 : typeof Time === 'string' && Time !== '' ? Date.parse(Time) : st.clock.now();
  const id = randomUUID();
  const bus = st.findBus(rs, busName);
  if (!bus) {
    // AWS accepts events for a bus that does not exist and drops them (aws/aws-sdk#186).
    log(`[events ${ctx.region}] event ${id} for missing bus ${busName} dropped`);
    return { EventId: id };
  }
  delivery.accept(
    rs,
    bus,
    {
      version: '0',
      id,
      'detail-type': DetailType,
      source: Source,
      account: rs.accountId,
      time: isoSeconds(Number.isFinite(timeMs) ? timeMs : st.clock.now()),
      region: rs.region,
      resources: (Resources as string[] | undefined) ?? [],
      detail: detail as Record<string, unknown>,
    },
    0,
  );
  return { EventId: id };
}

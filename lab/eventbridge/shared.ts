/** What every part of the lab's EventBridge shares: AWS-shaped errors, input readers, pagination, copies, times. */
import { LabError } from '../types.js';
import { EventPatternError, parseEventPattern, type CompiledPattern } from './pattern.js';
import type { Input, Tag } from './model.js';

export const RULE_NAME = /^[.\-_A-Za-z0-9]{1,64}$/;

export function validation(message: string): LabError {
  return new LabError('ValidationException', message);
}

export function notFound(message: string): LabError {
  return new LabError('ResourceNotFoundException', message);
}

export function isoSeconds(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

export function epochSeconds(ms: number): number {
  return ms / 1000;
}

export function clean<T extends Record<string, unknown>>(obj: T): T {
  for (const k of Object.keys(obj)) if (obj[k] === undefined) delete obj[k];
  return obj;
}

export function deepCopy<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}

export function lowerFirst(s: string): string {
  return s.charAt(0).toLowerCase() + s.slice(1);
}

export function requireString(input: Input, field: string, pattern?: RegExp): string {
  const v = input[field];
  if (v === undefined || v === null || v === '') {
    throw validation(`1 validation error detected: Value null at '${lowerFirst(field)}' failed to satisfy constraint: Member must not be null`);
  }
  if (typeof v !== 'string') throw validation(`Parameter ${field} must be a string.`);
  if (pattern && !pattern.test(v)) {
    throw validation(
      `1 validation error detected: Value '${v}' at '${lowerFirst(field)}' failed to satisfy constraint: Member must satisfy regular expression pattern: ${pattern.source}`,
    );
  }
  return v;
}

export function optionalString(input: Input, field: string): string | undefined {
  const v = input[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw validation(`Parameter ${field} must be a string.`);
  return v;
}

export function compilePatternOrThrow(text: string): CompiledPattern {
  try {
    return parseEventPattern(text);
  } catch (err) {
    if (err instanceof EventPatternError) throw new LabError('InvalidEventPatternException', err.message);
    throw err;
  }
}

export function parseTags(raw: unknown): Tag[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) throw validation('Tags must be a list.');
  return raw.map((t: unknown) => {
    const tag = (t ?? {}) as Input;
    if (typeof tag.Key !== 'string' || tag.Key === '' || typeof tag.Value !== 'string') {
      throw validation('Each tag needs a Key and a Value.');
    }
    return { Key: tag.Key, Value: tag.Value };
  });
}

/**
 * A List* answer: the records whose Name starts with NamePrefix (and that `keep` keeps), sorted by name,
 * one page of them under `key` (each as `out` describes it) and the NextToken of the next page.
 */
export function listByName<T extends { Name: string }>(
  records: T[],
  input: Input,
  key: string,
  out: (r: T) => unknown,
  keep: (r: T) => boolean = () => true,
): unknown {
  const prefix = optionalString(input, 'NamePrefix') ?? '';
  const page = paginate(
    records.filter((r) => r.Name.startsWith(prefix) && keep(r)).sort((a, b) => a.Name.localeCompare(b.Name)),
    input,
  );
  return clean({ [key]: page.items.map(out), NextToken: page.nextToken });
}

export function paginate<T>(items: T[], input: Input): { items: T[]; nextToken?: string } {
  const limit = input.Limit;
  if (limit !== undefined && (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > 100)) {
    throw validation(`1 validation error detected: Value '${String(limit)}' at 'limit' failed to satisfy constraint: Member must have value between 1 and 100`);
  }
  let start = 0;
  if (typeof input.NextToken === 'string' && input.NextToken !== '') {
    const decoded = Number(Buffer.from(input.NextToken, 'base64url').toString('utf8').replace(/^lab:/, ''));
    if (!Number.isInteger(decoded) || decoded < 0) throw validation('The NextToken provided is not valid.');
    start = decoded;
  }
  const size = typeof limit === 'number' ? limit : 100;
  const page = items.slice(start, start + size);
  const next = start + size < items.length ? Buffer.from(`lab:${start + size}`).toString('base64url') : undefined;
  return next === undefined ? { items: page } : { items: page, nextToken: next };
}

/** Drops the oldest entries once a log is 10% over its bound (not on every push). */
export function trim(log: unknown[], max: number): void {
  if (log.length > max + Math.ceil(max / 10)) log.splice(0, log.length - max);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    t.unref?.();
  });
}

/**
 * ListSecrets / BatchGetSecretValue filters, as recorded on AWS:
 * - name / tag-key / tag-value / primary-region / owning-service: prefix of the whole attribute,
 *   case-sensitive (a value with spaces is one prefix: "testing1 one" never matches "testing1/one").
 * - description / all: the value is broken into words, and every word must start some word of
 *   the description (all: of the name, description, tag keys and tag values), not case-sensitive.
 *   A value that holds no word ("+") matches nothing.
 * A value starting with `!` negates. Values inside one filter are OR'd (negated values must all
 * hold); filters are AND'd, also when a key is given twice.
 */
import { err, invalidParam, type SecretRecord } from './model.js';

interface Filter {
  Key: string;
  Values: string[];
}

const KEYS = new Set(['description', 'name', 'tag-key', 'tag-value', 'primary-region', 'owning-service', 'all']);
const VALUE_RE = /^!?[a-zA-Z0-9 :_@/+=.\-!]*$/;

export function readFilters(raw: unknown): Filter[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) throw invalidParam('Filters must be a list.');
  if (raw.length > 10) throw invalidParam('You can specify at most 10 filters.');
  return raw.map((f: unknown, i) => {
    const filter = f as Record<string, unknown>;
    const key = filter?.Key;
    const values = filter?.Values;
    if (typeof key !== 'string') throw invalidParam('Invalid filter key');
    if (!KEYS.has(key)) {
      // AWS's model validation (the key is an enum).
      throw err(
        'ValidationException',
        `1 validation error detected: Value '${key}' at 'filters.${i + 1}.member.key' failed to satisfy constraint: Member must satisfy enum value set: [${[...KEYS].join(', ')}]`,
      );
    }
    if (!Array.isArray(values) || values.length < 1 || values.length > 10) {
      throw invalidParam('Each filter needs between 1 and 10 values.');
    }
    for (const v of values) {
      if (typeof v !== 'string' || v.length > 512 || !VALUE_RE.test(v)) throw invalidParam(`Invalid filter value: ${String(v)}`);
    }
    return { Key: key, Values: values as string[] };
  });
}

/**
 * Splits text into words as AWS's search does: at every character that is not a letter or digit,
 * and at case changes: before an upper-case letter that follows a lower-case one ("MyTest" →
 * My, Test) and before the last upper-case letter of a run that a lower-case letter follows
 * ("COMPANYthings" → COMPAN, Ythings). Letters and digits stay together.
 */
function words(text: string): string[] {
  return text
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .replace(/([A-Z])([A-Z][a-z])/g, '$1 $2')
    .split(/[^A-Za-z0-9]+/)
    .filter((w) => w.length > 0)
    .map((w) => w.toLowerCase());
}

/** Every word of `value` starts some word of `texts` (case-insensitive); false when `value` has no word. */
function wordsMatch(value: string, texts: string[]): boolean {
  const wanted = words(value);
  if (wanted.length === 0) return false;
  const have = texts.flatMap(words);
  return wanted.every((w) => have.some((h) => h.startsWith(w)));
}

/** The Region shown as PrimaryRegion: own Region on a replicated primary, the primary's on a replica. */
export function primaryRegionOf(rec: SecretRecord): string | undefined {
  if (rec.primaryRegion) return rec.primaryRegion;
  return rec.replicas.length > 0 ? rec.region : undefined;
}

function matchesOne(rec: SecretRecord, key: string, value: string): boolean {
  switch (key) {
    case 'name':
      return rec.name.startsWith(value);
    case 'description':
      return rec.description !== undefined && wordsMatch(value, [rec.description]);
    case 'tag-key':
      return rec.tags.some((t) => t.Key.startsWith(value));
    case 'tag-value':
      return rec.tags.some((t) => t.Value.startsWith(value));
    case 'primary-region': {
      const primary = primaryRegionOf(rec);
      return primary !== undefined && primary.startsWith(value);
    }
    case 'owning-service':
      return false; // the lab has no service-owned secrets
    case 'all':
      return wordsMatch(value, [rec.name, rec.description ?? '', ...rec.tags.flatMap((t) => [t.Key, t.Value])]);
    default:
      return false;
  }
}

export function matchesFilters(rec: SecretRecord, filters: Filter[]): boolean {
  for (const f of filters) {
    let anyPositive = false;
    let positiveHit = false;
    for (const raw of f.Values) {
      if (raw.startsWith('!')) {
        if (matchesOne(rec, f.Key, raw.slice(1))) return false;
      } else {
        anyPositive = true;
        if (!positiveHit && matchesOne(rec, f.Key, raw)) positiveHit = true;
      }
    }
    if (anyPositive && !positiveHit) return false;
  }
  return true;
}

/** Opaque pagination tokens: an offset into the (deterministically sorted) result. */
export function encodeToken(offset: number): string {
  return Buffer.from(JSON.stringify({ o: offset })).toString('base64url');
}

export function decodeToken(token: string | undefined): number {
  if (token === undefined) return 0;
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { o?: unknown };
    if (typeof parsed.o === 'number' && Number.isInteger(parsed.o) && parsed.o >= 0) return parsed.o;
  } catch {
    // fall through
  }
  throw err('InvalidNextTokenException', 'The NextToken value is invalid.');
}

/** ListSecrets' NextToken: the offset, and the listing's snapshot (see SecretsManagerService.listSecrets). */
export function encodeListToken(offset: number, cursor: number): string {
  return Buffer.from(JSON.stringify({ o: offset, c: cursor })).toString('base64url');
}

export function decodeListToken(token: string | undefined): { offset: number; cursor?: number } {
  const offset = decodeToken(token);
  if (token === undefined) return { offset };
  const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { c?: unknown };
  return typeof parsed.c === 'number' && Number.isInteger(parsed.c) ? { offset, cursor: parsed.c } : { offset };
}

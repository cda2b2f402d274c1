/**
 * What a rule target receives: the event itself, a constant `Input`, the part selected by
 * `InputPath`, or an `InputTransformer` rendering (InputPathsMap + InputTemplate).
 *
 * JSONPath: the subset EventBridge documents — `$`, dot notation with letters, digits, `-`, `_`
 * and `/`, array indices `[0]`, bracketed names `['a b']`, and the wildcard `*` (which yields an
 * array of every match).
 *
 * Templates, as documented (API reference "InputTransformer", user guide "Amazon EventBridge
 * input transformation"):
 * - a template that is a JSON object/array gets JSON values for placeholders outside quotes
 *   (`{"id": <id>}` → `{"id": "abc"}`), raw text for placeholders inside quotes
 *   (`"state is <s>"` → `"state is running"`); an object or array inside quotes loses its inner
 *   quotes (`"detail is <d>"` → `"detail is {key: value}"`); values are not escaped;
 * - any other template (plain text, or one quoted string) gets raw text everywhere;
 * - a path that matches nothing defines no variable: `null` outside quotes in a JSON template,
 *   empty text elsewhere (the lab's choice; AWS only says the variable "isn't created");
 * - predefined variables: aws.events.rule-arn, aws.events.rule-name,
 *   aws.events.event.ingestion-time, aws.events.event (the event without `detail`),
 *   aws.events.event.json (the whole event); placeholders naming nothing are left as written.
 */

class JsonPathError extends Error {}

type Step = { kind: 'key'; key: string } | { kind: 'index'; index: number } | { kind: 'wildcard' };

/** Parses a JSONPath of the documented subset; throws JsonPathError when it is not one. */
export function parseJsonPath(path: string): Step[] {
  if (typeof path !== 'string' || !path.startsWith('$')) throw new JsonPathError(`Invalid JSONPath: ${String(path)}`);
  const steps: Step[] = [];
  let i = 1;
  while (i < path.length) {
    const c = path[i];
    if (c === '.') {
      const m = /^[A-Za-z0-9_\-/*$@:]+/.exec(path.slice(i + 1));
      if (!m) throw new JsonPathError(`Invalid JSONPath: ${path}`);
      const name = m[0];
      steps.push(name === '*' ? { kind: 'wildcard' } : { kind: 'key', key: name });
      i += 1 + name.length;
    } else if (c === '[') {
      const rest = path.slice(i);
      const idx = /^\[(\d+)\]/.exec(rest);
      const star = /^\[\*\]/.exec(rest);
      const quoted = /^\['([^']*)'\]/.exec(rest) ?? /^\["([^"]*)"\]/.exec(rest);
      if (idx) {
        steps.push({ kind: 'index', index: Number(idx[1]) });
        i += idx[0].length;
      } else if (star) {
        steps.push({ kind: 'wildcard' });
        i += star[0].length;
      } else if (quoted) {
        steps.push({ kind: 'key', key: quoted[1] as string });
        i += quoted[0].length;
      } else {
        throw new JsonPathError(`Invalid JSONPath: ${path}`);
      }
    } else {
      throw new JsonPathError(`Invalid JSONPath: ${path}`);
    }
  }
  return steps;
}

/** Evaluates a JSONPath; undefined when nothing matches. A path with a wildcard yields an array. */
export function evaluateJsonPath(path: string, doc: unknown): unknown {
  const steps = parseJsonPath(path);
  const hasWildcard = steps.some((s) => s.kind === 'wildcard');
  let current: unknown[] = [doc];
  for (const step of steps) {
    const next: unknown[] = [];
    for (const v of current) {
      if (step.kind === 'key') {
        if (v && typeof v === 'object' && !Array.isArray(v) && Object.prototype.hasOwnProperty.call(v, step.key)) {
          next.push((v as Record<string, unknown>)[step.key]);
        }
      } else if (step.kind === 'index') {
        if (Array.isArray(v) && step.index < v.length) next.push(v[step.index]);
      } else if (Array.isArray(v)) {
        next.push(...v);
      } else if (v && typeof v === 'object') {
        next.push(...Object.values(v));
      }
    }
    current = next;
  }
  if (hasWildcard) return current.length ? current : undefined;
  return current[0];
}

export interface InputTransformer {
  InputPathsMap?: Record<string, string>;
  InputTemplate: string;
}

interface TemplateContext {
  ruleArn: string;
  ruleName: string;
  /** ISO 8601 time at which the bus received the event. */
  ingestionTime: string;
}

/** Validates an InputTransformer as PutTargets does; returns an error message or undefined. */
export function validateInputTransformer(t: unknown): string | undefined {
  if (!t || typeof t !== 'object') return 'InputTransformer must be an object';
  const { InputPathsMap, InputTemplate } = t as Record<string, unknown>;
  if (typeof InputTemplate !== 'string' || InputTemplate.length === 0 || InputTemplate.length > 8192) {
    return 'InputTemplate must be a string of 1 to 8192 characters';
  }
  if (InputPathsMap !== undefined) {
    if (!InputPathsMap || typeof InputPathsMap !== 'object' || Array.isArray(InputPathsMap)) return 'InputPathsMap must be a map';
    const entries = Object.entries(InputPathsMap);
    if (entries.length > 100) return 'InputPathsMap can have at most 100 entries';
    for (const [key, value] of entries) {
      if (!/^[A-Za-z0-9_-]+$/.test(key)) return `InputPathsMap key ${key} is not valid`;
      if (key.startsWith('aws.')) return `InputPathsMap key ${key} is reserved`;
      if (typeof value !== 'string') return `InputPathsMap value for ${key} must be a JSONPath`;
      try {
        parseJsonPath(value);
      } catch {
        return `InputPathsMap value for ${key} is not a valid JSONPath: ${value}`;
      }
    }
  }
  return undefined;
}

/** Renders an InputTransformer for one event. */
export function renderInputTransformer(t: InputTransformer, event: Record<string, unknown>, ctx: TemplateContext): string {
  const vars = new Map<string, unknown>();
  for (const [name, path] of Object.entries(t.InputPathsMap ?? {})) vars.set(name, evaluateJsonPath(path, event));
  const { detail: _detail, ...withoutDetail } = event;
  const predefined = new Map<string, unknown>([
    ['aws.events.rule-arn', ctx.ruleArn],
    ['aws.events.rule-name', ctx.ruleName],
    ['aws.events.event.ingestion-time', ctx.ingestionTime],
    ['aws.events.event', withoutDetail],
    ['aws.events.event.json', event],
  ]);

  const template = t.InputTemplate;
  const trimmed = template.trim();
  const jsonTemplate = trimmed.startsWith('{') || trimmed.startsWith('[');
  let out = '';
  let inString = false;
  for (let i = 0; i < template.length; i++) {
    const c = template[i] as string;
    if (c === '"' && !isEscaped(template, i)) {
      inString = !inString;
      out += c;
      continue;
    }
    if (c === '<') {
      const close = template.indexOf('>', i + 1);
      const name = close > i ? template.slice(i + 1, close) : '';
      if (close > i && (vars.has(name) || predefined.has(name))) {
        const value = vars.has(name) ? vars.get(name) : predefined.get(name);
        out += jsonTemplate && !inString ? asJson(value) : asText(value);
        i = close;
        continue;
      }
    }
    out += c;
  }
  return out;
}

function isEscaped(s: string, i: number): boolean {
  let backslashes = 0;
  for (let j = i - 1; j >= 0 && s[j] === '\\'; j--) backslashes++;
  return backslashes % 2 === 1;
}

function asJson(v: unknown): string {
  return v === undefined ? 'null' : JSON.stringify(v);
}

function asText(v: unknown): string {
  if (v === undefined) return '';
  if (typeof v === 'string') return v;
  if (v !== null && typeof v === 'object') return JSON.stringify(v).replace(/"/g, '');
  return String(v);
}

/** The body a target receives for one event (see the module comment). */
export function targetInput(
  target: { Input?: string; InputPath?: string; InputTransformer?: InputTransformer },
  event: Record<string, unknown>,
  ctx: TemplateContext,
): string {
  if (target.Input !== undefined) return target.Input;
  if (target.InputPath !== undefined) return asJson(evaluateJsonPath(target.InputPath, event));
  if (target.InputTransformer !== undefined) return renderInputTransformer(target.InputTransformer, event, ctx);
  return JSON.stringify(event);
}

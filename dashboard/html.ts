/** HTML text helpers of the dashboard: everything that comes from a workflow is escaped here. */

export function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/** Tagged template: interpolated values are escaped unless they are `raw(...)` HTML. */
export class Raw {
  constructor(readonly html: string) {}
}
export const raw = (html: string) => new Raw(html);

type Value = string | number | undefined | null | Raw | readonly Value[];

function text(v: Value): string {
  if (v === undefined || v === null) return '';
  if (v instanceof Raw) return v.html;
  if (Array.isArray(v)) return v.map(text).join('');
  return escapeHtml(String(v));
}

export function html(strings: TemplateStringsArray, ...values: Value[]): Raw {
  return raw(strings.reduce((acc, s, i) => acc + s + (i < values.length ? text(values[i]!) : ''), ''));
}

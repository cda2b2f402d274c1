/** What the /_lab/ route handlers share: the route table type and the refusal of a bad call (HTTP 400 {error}). */

export class BadLabRequest extends Error {}

export type LabRoute = (body: Record<string, unknown>, query: URLSearchParams) => unknown;
/** `METHOD /_lab/path` → handler. */
export type LabRoutes = Record<string, LabRoute>;

/** The argument checks the routes share: a Region the lab serves, a non-negative number. */
export function labArgs(regions: readonly string[], regionSet: ReadonlySet<string>) {
  return {
    requireRegion(body: Record<string, unknown>): string {
      const r = body.region;
      if (typeof r !== 'string' || !regionSet.has(r)) throw new BadLabRequest(`"region" must be one of the lab's Regions (${regions.join(', ')})`);
      return r;
    },
    num(body: Record<string, unknown>, key: string, required: boolean): number | undefined {
      const v = body[key];
      if (v === undefined && !required) return undefined;
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new BadLabRequest(`"${key}" must be a non-negative number`);
      return v;
    },
  };
}

/** What the /_lab/ route handlers share: the route table type and the refusal of a bad call (HTTP 400 {error}). */

export class BadLabRequest extends Error {}

export type LabRoute = (body: Record<string, unknown>, query: URLSearchParams) => unknown;
/** `METHOD /_lab/path` → handler. */
export type LabRoutes = Record<string, LabRoute>;

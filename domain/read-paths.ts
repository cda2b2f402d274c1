/**
 * Applications' read paths, checked in a DR Region: GetSecretValue, and Parameter Store
 * (`GetParameter /aws/reference/secretsmanager/<name>` with decryption). Both must return the
 * current version (the primary's AWSCURRENT, or the promoted copy's own). Version ids only: an
 * activity reads the value to prove it is readable and keeps nothing of it. Pure and JSON-plain.
 */
import { z } from 'zod';
import type { HealthReason, ReadPathState, RegionObservation } from './health.js';

const PARAMETER_STORE_REFERENCE = '/aws/reference/secretsmanager/';

export const ReadPath = z.enum(['GetSecretValue', 'ParameterStore']);
export type ReadPath = z.infer<typeof ReadPath>;

/** One read through one path. */
export const PathRead = z.object({
  ok: z.boolean(),
  versionId: z.string().optional(),
  /** The AWS error (name: message) when the read failed. */
  error: z.string().optional(),
  /** The Region did not answer (not a refusal). */
  unreachable: z.boolean().optional(),
});
export type PathRead = z.infer<typeof PathRead>;

export const SecretReadPaths = z.object({
  name: z.string(),
  /** The version both paths must return; absent: the Region's own AWSCURRENT (GetSecretValue's answer). */
  expected: z.string().optional(),
  paths: z.record(ReadPath, PathRead),
  /** Both paths answered, with the expected version. */
  current: z.boolean(),
});
export type SecretReadPaths = z.infer<typeof SecretReadPaths>;

export const RegionReadPaths = z.object({
  region: z.string(),
  checked: z.number().int(),
  current: z.number().int(),
  /** Secrets whose read paths are not both current (capped in reports; `failedCount` has them all). */
  failed: z.array(SecretReadPaths),
  failedCount: z.number().int(),
  checkedAt: z.string(),
  /** Calls made: one per path per secret. */
  calls: z.number().int(),
  /** The Region could not be checked at all (it did not answer). */
  error: z.string().optional(),
});
export type RegionReadPaths = z.infer<typeof RegionReadPaths>;

export const ReadPathsReport = z.object({ plan: z.string(), regions: z.array(RegionReadPaths), attention: z.number().int() });
export type ReadPathsReport = z.infer<typeof ReadPathsReport>;

/** The Parameter Store name of a secret's reference (optionally with `:stage` or `:versionId`). */
export function referenceName(secretId: string, selector?: string): string {
  return `${PARAMETER_STORE_REFERENCE}${secretId}${selector ? `:${selector}` : ''}`;
}

/** Judges one secret's two reads against the expected version. */
export function judgeReadPaths(name: string, expected: string | undefined, paths: Record<ReadPath, PathRead>): SecretReadPaths {
  const want = expected ?? paths.GetSecretValue.versionId;
  const current = want !== undefined && ReadPath.options.every((p) => paths[p].ok && paths[p].versionId === want);
  return { name, ...(expected ? { expected } : {}), paths, current };
}

/** What is wrong with one secret's read paths, in words (version ids and errors only). */
export function readPathProblem(s: SecretReadPaths): string | undefined {
  if (s.current) return undefined;
  const want = s.expected ?? s.paths.GetSecretValue.versionId ?? '(unknown)';
  const why = ReadPath.options
    .map((p) => {
      const r = s.paths[p];
      if (!r) return `${p}: not checked`;
      if (!r.ok) return `${p}: ${r.error ?? 'failed'}`;
      return r.versionId === want ? undefined : `${p}: version ${r.versionId ?? '(none)'}, expected ${want}`;
    })
    .filter(Boolean);
  return `${s.name}: ${why.join('; ')}`;
}

/** The monitor's finding for a Region whose applications cannot read current versions through both paths. */
export function readPathReason(r: RegionReadPaths): HealthReason | undefined {
  if (r.failedCount === 0) return undefined;
  const examples = r.failed.slice(0, 3).map(readPathProblem).join(' | ');
  return {
    code: 'read-path',
    count: r.failedCount,
    message: `${r.failedCount} of ${r.checked} secret(s) not readable at their current version through GetSecretValue and Parameter Store in ${r.region} (${examples}${r.failedCount > 3 ? ' | ...' : ''})`,
  };
}

/** Inventory entry fields the targets need (domain/status.ts InventoryEntry). */
interface Listed {
  name: string;
  primaryRegion?: string;
  current?: string;
  deleted?: boolean;
  tags?: Array<[string, string]>;
}

/**
 * What to read in a DR Region, and at which version: the plan's secrets as the primary lists them
 * (expected = its AWSCURRENT); when the primary could not be read, the DR Region's own copies of
 * them (replicas of our primary, or promoted copies; expected = their own AWSCURRENT).
 */
export function readPathTargets(
  plan: { primaryRegion: string },
  covered: (e: Listed) => boolean,
  primary: { entries: readonly Listed[] } | undefined,
  dr: { entries: readonly Listed[] } | undefined,
): Array<{ name: string; expected?: string }> {
  // Either way: the copies that are ours (primaries of our Region, or replicas of it / promoted copies in the DR Region).
  return ((primary ?? dr)?.entries ?? [])
    .filter((e) => !e.deleted && (e.primaryRegion === undefined || e.primaryRegion === plan.primaryRegion) && covered(e))
    .map((e) => ({ name: e.name, ...(e.current ? { expected: e.current } : {}) }));
}

/** One Region's results of several batches, as one. */
export function mergeRegionReadPaths(region: string, parts: readonly RegionReadPaths[], checkedAt: string, maxFailed = 50): RegionReadPaths {
  const failed = parts.flatMap((p) => p.failed).sort((a, b) => a.name.localeCompare(b.name));
  return {
    region,
    checked: parts.reduce((n, p) => n + p.checked, 0),
    current: parts.reduce((n, p) => n + p.current, 0),
    failed: failed.slice(0, maxFailed),
    failedCount: parts.reduce((n, p) => n + p.failedCount, 0),
    checkedAt,
    calls: parts.reduce((n, p) => n + p.calls, 0),
  };
}

/** The read-path cycle is due: configured, and its interval passed since it last ran. */
export function readPathCycleDue(interval: number | undefined, state: ReadPathState | undefined, nowMs: number): boolean {
  return interval !== undefined && (state === undefined || nowMs - state.at >= interval);
}

/** The last read-path findings added to this cycle's observations (they stand until the next read-path cycle). */
export function withReadPathFindings(observations: readonly RegionObservation[], state: ReadPathState | undefined): RegionObservation[] {
  if (!state) return [...observations];
  return observations.map((o) => {
    const reason = state.reasons[o.region];
    if (!reason || !o.reachable || o.findings === undefined) return o;
    return { ...o, findings: [...o.findings, reason] };
  });
}

/**
 * Applications' read paths in this Region, as an application there reads its secrets:
 * GetSecretValue, and Parameter Store (`GetParameter /aws/reference/secretsmanager/<name>` with
 * decryption; its SourceResult is the GetSecretValue answer as JSON text). Each read proves the
 * value is readable; only its version id leaves this module — never the value (invariant 1).
 * `readThroughPaths` is also used by the drill to time the RTO an application sees.
 */
import { heartbeat } from '@temporalio/activity';
import { judgeReadPaths, referenceName, type PathRead, type ReadPath, type RegionReadPaths, type SecretReadPaths } from '../domain/read-paths.js';
import type { RegionClients } from './clients.js';
import { describeAwsError, isUnreachable, toFailure } from './aws-errors.js';

const CONCURRENCY = 8;
/** Failed secrets kept in a report (all are counted). */
const MAX_FAILED = 50;

const errorText = (err: unknown) => {
  const e = describeAwsError(err);
  return `${e.name}: ${e.message}`;
};

/** The version id a Parameter Store reference answered with (from SourceResult; the value is dropped here). */
function versionOfSourceResult(sourceResult: string | undefined): string | undefined {
  if (!sourceResult) return undefined;
  try {
    const parsed = JSON.parse(sourceResult) as { VersionId?: unknown };
    return typeof parsed.VersionId === 'string' ? parsed.VersionId : undefined;
  } catch {
    return undefined;
  }
}

/** One read of `name` through each path (in parallel), version ids only. */
export async function readThroughPaths(clients: RegionClients, name: string): Promise<Record<ReadPath, PathRead>> {
  const viaSecretsManager = async (): Promise<PathRead> => {
    try {
      const v = await clients.secretsManager.getSecretValue({ SecretId: name });
      const readable = v.SecretString !== undefined || v.SecretBinary !== undefined;
      return readable ? { ok: true, ...(v.VersionId ? { versionId: v.VersionId } : {}) } : { ok: false, error: 'no value in the answer' };
    } catch (err) {
      return { ok: false, error: errorText(err), ...(isUnreachable(err) ? { unreachable: true } : {}) };
    }
  };
  const viaParameterStore = async (): Promise<PathRead> => {
    if (!clients.ssm) return { ok: false, error: `no Parameter Store client for ${clients.region} (worker composition)` };
    try {
      const p = await clients.ssm.getParameter({ Name: referenceName(name), WithDecryption: true });
      if (p.Parameter?.Value === undefined) return { ok: false, error: 'no value in the answer' };
      const versionId = versionOfSourceResult(p.Parameter.SourceResult);
      return { ok: true, ...(versionId ? { versionId } : {}) };
    } catch (err) {
      return { ok: false, error: errorText(err) };
    }
  };
  const [GetSecretValue, ParameterStore] = await Promise.all([viaSecretsManager(), viaParameterStore()]);
  return { GetSecretValue, ParameterStore };
}

export function createReadPathsActivities(clients: RegionClients) {
  const { region } = clients;
  return {
    /**
     * Reads each secret through both paths in this Region and compares the version ids with
     * `expected` (the primary's AWSCURRENT; absent: GetSecretValue's answer here). A Region that
     * does not answer at all fails the activity (an outage is the monitor's finding, not this one's).
     */
    async checkReadPaths(input: { region: string; secrets: Array<{ name: string; expected?: string }> }): Promise<RegionReadPaths> {
      if (input.region !== region) throw new Error(`checkReadPaths for ${input.region} reached the worker of ${region} (task queue routing bug)`);
      const results: SecretReadPaths[] = [];
      let next = 0;
      const lane = async () => {
        while (next < input.secrets.length) {
          const s = input.secrets[next++]!;
          const paths = await readThroughPaths(clients, s.name);
          results.push(judgeReadPaths(s.name, s.expected, paths));
          heartbeat({ checked: results.length });
        }
      };
      await Promise.all(Array.from({ length: Math.min(CONCURRENCY, input.secrets.length) }, lane));
      const failed = results.filter((r) => !r.current);
      if (results.length > 0 && failed.length === results.length && failed.every((f) => f.paths.GetSecretValue.unreachable)) {
        throw toFailure(Object.assign(new Error(failed[0]!.paths.GetSecretValue.error ?? 'no answer'), { code: 'ECONNREFUSED' }), 'read-path check', region);
      }
      failed.sort((a, b) => a.name.localeCompare(b.name));
      return {
        region,
        checked: results.length,
        current: results.length - failed.length,
        failed: failed.slice(0, MAX_FAILED),
        failedCount: failed.length,
        checkedAt: new Date().toISOString(),
        calls: results.length * 2,
      };
    },
  };
}

export type ReadPathsActivities = ReturnType<typeof createReadPathsActivities>;

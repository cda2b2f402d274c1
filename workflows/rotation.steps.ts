/**
 * Rotation moved onto a Region's Lambda in batches (failover re-homes it onto the DR Region,
 * failback restores it on the original): one activity per batch, describe-first, RotateImmediately
 * = false. A batch that fails as a whole is counted and reported, never fails the operation.
 */
import type { FailoverActivities } from '../activities/failover.activities.js';
import { chunk } from './kit/batch-loop.js';
import { failureMessage } from './kit/failures.js';
import { rulesByName, type RecordedRotation } from '../domain/failover.js';
import type { WriteQuotaShareMode } from '../domain/plan.js';

const ROTATION_BATCH = 250;

interface RotationMove {
  region: string;
  names: readonly string[];
  lambdaArn: string;
  writeQuotaShare: number;
  writeQuotaShareMode?: WriteQuotaShareMode;
  /** "re-homed" / "restored": how the warnings name what did not happen. */
  verb: string;
  /** The secrets' schedules as the failover recorded them from the primary: passed to RotateSecret explicitly. */
  recorded?: ReadonlyArray<{ name: string; rotationRules?: RecordedRotation }>;
}

export async function moveRotation(
  acts: Pick<FailoverActivities, 'rehomeRotationBatch'>,
  move: RotationMove,
  warnings: string[],
): Promise<{ moved: number; failed: number }> {
  const out = { moved: 0, failed: 0 };
  for (const batch of chunk(move.names, ROTATION_BATCH)) {
    try {
      const rules = move.recorded ? rulesByName(move.recorded, batch) : undefined;
      const r = await acts.rehomeRotationBatch({
        region: move.region,
        names: batch,
        lambdaArn: move.lambdaArn,
        writeQuotaShare: move.writeQuotaShare,
        ...(move.writeQuotaShareMode ? { writeQuotaShareMode: move.writeQuotaShareMode } : {}),
        ...(rules ? { rules } : {}),
      });
      out.moved += r.rehomed;
      out.failed += r.failed.length;
      warnings.push(...r.failed.slice(0, 20).map((f) => `rotation not ${move.verb} for ${f.name}: ${f.reason}`));
    } catch (err) {
      out.failed += batch.length;
      warnings.push(`rotation not ${move.verb} for a batch of ${batch.length}: ${failureMessage(err)}`);
    }
  }
  return out;
}

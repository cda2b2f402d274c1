/**
 * Lineage: what a secret is, per Region, without its value — version ids, staging labels and a keyed
 * hash (HMAC-SHA256 with the orchestrator's own key) of each labelled version's value. Two sides
 * hold the same value iff their HMACs are equal; nobody can learn a value from an HMAC without the
 * key, which never leaves activities (DESIGN.md invariant 1).
 */
import { z } from 'zod';

export const VersionLineage = z.object({
  versionId: z.string(),
  stages: z.array(z.string()),
  /** `hmac-sha256:<hex>`; absent when the version's value could not be read. */
  hmac: z.string().optional(),
  createdDate: z.string().optional(),
});
export type VersionLineage = z.infer<typeof VersionLineage>;

export const SecretLineage = z.object({
  region: z.string(),
  name: z.string(),
  arn: z.string(),
  /** Set when the secret is a replica (the Region of its primary). */
  primaryRegion: z.string().optional(),
  /** Only labelled versions (AWSCURRENT, AWSPREVIOUS, AWSPENDING, custom labels). */
  versions: z.array(VersionLineage),
  readAt: z.string(),
});
export type SecretLineage = z.infer<typeof SecretLineage>;

/** The orchestrator's HMAC key: one secret per plan, replicated to every plan Region. */
export function hmacKeySecretName(planName: string): string {
  return `secrets-dr/${planName}/hmac-key`;
}

export function currentOf(lineage: SecretLineage | undefined): VersionLineage | undefined {
  return lineage?.versions.find((v) => v.stages.includes('AWSCURRENT'));
}

/** Same AWSCURRENT value on both sides (by HMAC)? undefined when either side is unknown. */
export function sameCurrentValue(a: SecretLineage | undefined, b: SecretLineage | undefined): boolean | undefined {
  const x = currentOf(a)?.hmac;
  const y = currentOf(b)?.hmac;
  return x === undefined || y === undefined ? undefined : x === y;
}

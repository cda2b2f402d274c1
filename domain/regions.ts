/**
 * AWS Regions known to secrets-dr. Plans naming anything else are rejected, and the lab serves
 * exactly these (or a subset given with `--regions`).
 */
import { z } from 'zod';

export const KNOWN_REGIONS = [
  'us-east-1',
  'us-east-2',
  'us-west-1',
  'us-west-2',
  'af-south-1',
  'ap-east-1',
  'ap-east-2',
  'ap-south-1',
  'ap-south-2',
  'ap-southeast-1',
  'ap-southeast-2',
  'ap-southeast-3',
  'ap-southeast-4',
  'ap-southeast-5',
  'ap-southeast-6',
  'ap-southeast-7',
  'ap-northeast-1',
  'ap-northeast-2',
  'ap-northeast-3',
  'ca-central-1',
  'ca-west-1',
  'eu-central-1',
  'eu-central-2',
  'eu-west-1',
  'eu-west-2',
  'eu-west-3',
  'eu-south-1',
  'eu-south-2',
  'eu-north-1',
  'il-central-1',
  'me-south-1',
  'me-central-1',
  'mx-central-1',
  'sa-east-1',
] as const;

type KnownRegion = (typeof KNOWN_REGIONS)[number];

const known = new Set<string>(KNOWN_REGIONS);
export function isKnownRegion(region: string): region is KnownRegion {
  return known.has(region);
}

/** A comma-separated Region list (`--regions`, SECRETS_DR_REGIONS) → names; unknown Regions are problems. */
export const RegionListText = z
  .string()
  .optional()
  .transform((text, ctx) => {
    if (text === undefined || text.trim() === '') return undefined;
    const regions = text
      .split(',')
      .map((r) => r.trim())
      .filter(Boolean);
    for (const r of regions) if (!isKnownRegion(r)) ctx.addIssue({ code: 'custom', message: `unknown AWS Region "${r}"` });
    return regions;
  });

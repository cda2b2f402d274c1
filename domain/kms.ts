/**
 * KMS key references in a plan and in what Secrets Manager lists: which Region a key ARN belongs
 * to (KMS keys are regional; a multi-Region key `mrk-…` has one ARN per Region, with the same key
 * id), and whether a key is the AWS managed `aws/secretsmanager` key. Pure.
 */

const KEY_ARN = /^arn:(aws[a-z-]*):kms:([a-z0-9-]+):(\d{12}):(key|alias)\/(.+)$/;

interface KeyArn {
  partition: string;
  region: string;
  account: string;
  kind: 'key' | 'alias';
  id: string;
  /** A multi-Region key (`mrk-` key id): the same key exists as a replica in other Regions, each with its own ARN. */
  multiRegion: boolean;
}

/** The parts of a KMS key or alias ARN; undefined for a bare key id or `alias/NAME` (resolved in the caller's Region). */
export function parseKeyArn(text: string): KeyArn | undefined {
  const m = KEY_ARN.exec(text);
  if (!m) return undefined;
  const kind = m[4] as 'key' | 'alias';
  return { partition: m[1]!, region: m[2]!, account: m[3]!, kind, id: m[5]!, multiRegion: kind === 'key' && m[5]!.startsWith('mrk-') };
}

/** The AWS managed key of Secrets Manager, as it can be named (DescribeSecret leaves KmsKeyId out for it on AWS). */
export function isAwsManagedKey(keyId: string | undefined): boolean {
  return keyId === undefined || keyId === '' || /^(alias\/)?aws\/secretsmanager$/.test(keyId) || /:alias\/aws\/secretsmanager$/.test(keyId);
}

/**
 * Why a key ARN cannot protect secrets in `region` (undefined when it can, or cannot be told from
 * the text). A multi-Region key is named by its replica's ARN in that Region.
 */
export function keyRegionProblem(keyId: string, region: string): string | undefined {
  const arn = parseKeyArn(keyId);
  if (!arn || arn.region === region) return undefined;
  if (arn.multiRegion) {
    return `the multi-Region key ${keyId} is named by its ARN in ${arn.region}; in ${region} name its replica there: arn:${arn.partition}:kms:${region}:${arn.account}:key/${arn.id} (replicate the key to ${region} first if it has no replica there)`;
  }
  return `the key ${keyId} lives in ${arn.region}, but it must be a key of ${region} (KMS keys are regional): name a key or alias of ${region}, or a multi-Region key's replica there`;
}

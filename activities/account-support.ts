/**
 * What every account-DR activity module does the same way in one Region: name where a call went (the
 * primary account or a recovery account), take the write governor of that account's bucket, and describe
 * a secret through the cross-account client (undefined when it is not there).
 */
import type { AccountRegionClients, CrossAccountDescribe } from './clients.js';
import { isNotFound, toFailure } from './aws-errors.js';
import { writeGovernor } from './write-governor.js';

export function accountCalls(region: string) {
  const where = (c: AccountRegionClients) => (c.accountId ? `${region} (account ${c.accountId})` : `${region} (primary account)`);
  const gov = (c: AccountRegionClients, share: number, group?: string) => writeGovernor(group ? `${c.bucket}/${group}` : c.bucket, share);
  const describe = async (c: AccountRegionClients, id: string): Promise<CrossAccountDescribe | undefined> => {
    try {
      return await c.crossAccount.describeSecretCrossAccount({ SecretId: id });
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw toFailure(err, `DescribeSecret ${id}`, where(c));
    }
  };
  return { where, gov, describe };
}

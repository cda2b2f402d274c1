/**
 * The one ListSecrets pager of the activities: pages of 100 through NextToken; a failed call is the
 * activity failure naming the call and the Region (toFailure: retryable or not by its AWS error);
 * after each page an optional heartbeat (`{ listCalls }`: progress, and a crashed worker is noticed);
 * an optional page budget, after which the token to continue from is returned (so a large fleet
 * never travels as one payload).
 */
import { heartbeat } from '@temporalio/activity';
import type { ListSecretsRequest, SecretListEntry } from '@aws-sdk/client-secrets-manager';
import type { SecretsManagerApi } from './clients.js';
import { toFailure } from './aws-errors.js';

interface ListSecretsPaging {
  /** The request besides MaxResults/NextToken (Filters, IncludePlannedDeletion). */
  request?: Omit<ListSecretsRequest, 'MaxResults' | 'NextToken'>;
  /** How a failure names the call ("ListSecrets (backups)"); default "ListSecrets". */
  what?: string;
  /** Heartbeat after each page (only inside an activity that heartbeats). */
  heartbeat?: boolean;
  /** Continue from this token (a previous call's `nextToken`). */
  from?: string;
  /** At most this many pages; then `nextToken` says where to continue. */
  maxPages?: number;
}

/** Calls `onEntry` for every secret ListSecrets returns in `region`, page by page, in order (awaited one by one). */
export async function forEachListedSecret(
  secretsManager: Pick<SecretsManagerApi, 'listSecrets'>,
  region: string,
  paging: ListSecretsPaging,
  onEntry: (entry: SecretListEntry) => void | Promise<void>,
): Promise<{ listCalls: number; nextToken?: string }> {
  let nextToken = paging.from;
  let listCalls = 0;
  do {
    let page;
    try {
      page = await secretsManager.listSecrets({ MaxResults: 100, NextToken: nextToken, ...paging.request });
    } catch (err) {
      throw toFailure(err, paging.what ?? 'ListSecrets', region);
    }
    listCalls++;
    for (const entry of page.SecretList ?? []) await onEntry(entry);
    nextToken = page.NextToken;
    if (paging.heartbeat) heartbeat({ listCalls });
  } while (nextToken && listCalls < (paging.maxPages ?? Number.POSITIVE_INFINITY));
  return { listCalls, ...(nextToken ? { nextToken } : {}) };
}

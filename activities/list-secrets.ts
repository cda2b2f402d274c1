/**
 * The one ListSecrets pager of the activities: pages of 100 through NextToken; a failed call is the
 * activity failure naming the call and the Region (toFailure: retryable or not by its AWS error);
 * after each page an optional heartbeat (`{ listCalls }`: progress, and a crashed worker is noticed);
 * an optional page budget, after which the token to continue from is returned (so a large fleet
 * never travels as one payload).
 *
 * ListSecrets has its own quota, 100 calls/s per Region and account (../shared/AWS-FACTS.md). The pager
 * keeps this process under LIST_CALLS_PER_SECOND per Region (sends spaced evenly), which leaves room
 * for the applications' and other tools' listings; a failover lists a Region from both ends at once
 * (workflows/failover.run.ts). A page that is throttled anyway is asked again here, after a jittered
 * backoff (LIST_THROTTLE_RETRIES times), so the pages already listed are kept: failing the activity
 * would list them again.
 */
import { heartbeat } from '@temporalio/activity';
import type { ListSecretsRequest, SecretListEntry } from '@aws-sdk/client-secrets-manager';
import type { SecretsManagerApi } from './clients.js';
import { isThrottling, toFailure } from './aws-errors.js';
import { backoffMs } from './write-governor.js';

export const LIST_CALLS_PER_SECOND = 80;
export const LIST_THROTTLE_RETRIES = 5;
/** Per quota (Region, or Region@account): the earliest time the next ListSecrets of this process may be sent. */
const nextSend = new Map<string, number>();

/** Waits for this quota's next send slot (1/LIST_CALLS_PER_SECOND apart), and takes it. */
async function pace(bucket: string): Promise<void> {
  const now = performance.now(); // monotonic: a wall-clock step back must not stall listing
  const at = Math.max(now, nextSend.get(bucket) ?? 0);
  nextSend.set(bucket, at + 1_000 / LIST_CALLS_PER_SECOND);
  if (at > now) await new Promise((r) => setTimeout(r, at - now));
}

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
  /** Asked after each page: true stops the listing there (`nextToken` says where to continue). */
  done?: () => boolean;
  /**
   * Whose quota the calls take (the write governor's key, activities/clients.ts `accountBucket`): default the
   * Region (this worker's account). Another account's clients pass theirs; the primary account's clients in
   * account DR pass the bare Region, so they pace together with a failover's listing of that Region.
   */
  bucket?: string;
}

/** Calls `onEntry` for every secret ListSecrets returns in `region` (a label for errors), page by page, in order (awaited one by one). */
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
    for (let attempt = 0; page === undefined; attempt++) {
      await pace(paging.bucket ?? region);
      try {
        page = await secretsManager.listSecrets({ MaxResults: 100, NextToken: nextToken, ...paging.request });
      } catch (err) {
        if (!isThrottling(err) || attempt >= LIST_THROTTLE_RETRIES) throw toFailure(err, paging.what ?? 'ListSecrets', region);
        await new Promise((r) => setTimeout(r, backoffMs(attempt + 1))); // the write governor's resend backoff
      }
    }
    listCalls++;
    for (const entry of page.SecretList ?? []) await onEntry(entry);
    nextToken = page.NextToken;
    if (paging.heartbeat) heartbeat({ listCalls });
  } while (nextToken && listCalls < (paging.maxPages ?? Number.POSITIVE_INFINITY) && !paging.done?.());
  return { listCalls, ...(nextToken ? { nextToken } : {}) };
}

/** Messages of the per-Region write lease (write-lease.workflow.ts): the holder renews it (an update, so a stale holder hears "no") and releases it. */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';

export interface WriteLeaseInput {
  region: string;
  /** Who holds it: `<host>:<pid>:<nonce>` of the worker process. */
  holder: string;
  /** The lease ends this long after it was taken or last renewed, unless renewed again. */
  termMs: number;
  /** Every Region the holder serves (partial overlap: a process holding a later Region yields it only to a holder that serves it too). */
  serves?: string[];
  /** Renewals carried over a continue-as-new (history stays small however long the lease is held). */
  renewals?: number;
}

export interface WriteLeaseResult {
  holder: string;
  ended: 'released' | 'expired';
  renewals: number;
}

/** Renew: refused (the caller no longer holds the lease) when the holder differs or the lease was released. */
export const renewWriteLeaseUpdate = defineUpdate<{ termMs: number }, [{ holder: string }]>('renewWriteLease');

/** Release (the holder stops): ignored unless it comes from the holder. */
export const releaseWriteLeaseSignal = defineSignal<[{ holder: string }]>('releaseWriteLease');

/** Who holds the lease and which Regions it serves (region-lease.ts decides whether to yield a later Region to it). */
export const writeLeaseHolderQuery = defineQuery<{ holder: string; serves: string[] }>('writeLeaseHolder');

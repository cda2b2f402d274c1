/**
 * The one ListSecrets pager (activities/list-secrets.ts): it keeps a Region's sends under its pace,
 * and a throttled page is asked again in place (the pages already listed are kept) a bounded number
 * of times, then fails naming the call and the Region.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ListSecretsRequest, ListSecretsResponse } from '@aws-sdk/client-secrets-manager';
import { forEachListedSecret, LIST_CALLS_PER_SECOND, LIST_THROTTLE_RETRIES } from '../../activities/list-secrets.js';
import type { SecretsManagerApi } from '../../activities/clients.js';

const throttled = () => Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } });

/** A fake Region of `pages` pages; `throttle(call)` says which calls answer ThrottlingException. */
function fakeRegion(pages: number, throttle: (call: number) => boolean = () => false) {
  const sentAt: number[] = [];
  const api = {
    listSecrets: async (req: ListSecretsRequest): Promise<ListSecretsResponse> => {
      sentAt.push(Date.now());
      if (throttle(sentAt.length)) throw throttled();
      const page = req.NextToken ? Number(req.NextToken) : 0;
      return {
        SecretList: [{ Name: `s${page}`, ARN: `arn:s${page}` }],
        ...(page + 1 < pages ? { NextToken: String(page + 1) } : {}),
      };
    },
  };
  return { api: api as unknown as Pick<SecretsManagerApi, 'listSecrets'>, sentAt };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('the ListSecrets pager', () => {
  it('asks a throttled page again, keeping the pages listed before it', async () => {
    vi.useFakeTimers();
    const { api, sentAt } = fakeRegion(3, (call) => call === 2 || call === 3);
    const names: string[] = [];
    const done = forEachListedSecret(api, 'eu-west-1', {}, (e) => void names.push(e.Name!));
    await vi.runAllTimersAsync();
    await expect(done).resolves.toEqual({ listCalls: 3 });
    expect(names).toEqual(['s0', 's1', 's2']);
    expect(sentAt).toHaveLength(5);
  });

  it(`fails naming ListSecrets and the Region after ${LIST_THROTTLE_RETRIES} retries of one page`, async () => {
    vi.useFakeTimers();
    const { api, sentAt } = fakeRegion(3, (call) => call > 1);
    const done = forEachListedSecret(api, 'eu-west-2', {}, () => undefined);
    const caught = done.then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    await vi.runAllTimersAsync();
    const err = await caught;
    expect(err).toBeInstanceOf(Error);
    expect(err?.message).toMatch(/ListSecrets/);
    expect(err?.message).toMatch(/eu-west-2/);
    expect(sentAt).toHaveLength(1 + 1 + LIST_THROTTLE_RETRIES);
  });

  it(`keeps one Region's sends ${1000 / LIST_CALLS_PER_SECOND} ms apart, across concurrent listings`, async () => {
    vi.useFakeTimers();
    const a = fakeRegion(10);
    const b = fakeRegion(10);
    const both = Promise.all([
      forEachListedSecret(a.api, 'eu-central-1', {}, () => undefined),
      forEachListedSecret(b.api, 'eu-central-1', {}, () => undefined),
    ]);
    await vi.runAllTimersAsync();
    await both;
    const sends = [...a.sentAt, ...b.sentAt].sort((x, y) => x - y);
    expect(sends).toHaveLength(20);
    for (let i = 1; i < sends.length; i++) expect(sends[i]! - sends[i - 1]!).toBeGreaterThanOrEqual(1000 / LIST_CALLS_PER_SECOND - 1);
  });

  it("paces by quota, not by label: an account-DR label of the primary account's Region shares the Region's pace, another account's does not", async () => {
    vi.useFakeTimers();
    const failover = fakeRegion(10);
    const primaryAccount = fakeRegion(10);
    const otherAccount = fakeRegion(10);
    const all = Promise.all([
      forEachListedSecret(failover.api, 'eu-north-1', {}, () => undefined),
      forEachListedSecret(primaryAccount.api, 'eu-north-1 (primary account)', { bucket: 'eu-north-1' }, () => undefined),
      forEachListedSecret(otherAccount.api, 'eu-north-1 (account 222222222222)', { bucket: 'eu-north-1@222222222222' }, () => undefined),
    ]);
    await vi.runAllTimersAsync();
    await all;
    const gap = 1000 / LIST_CALLS_PER_SECOND - 1;
    const shared = [...failover.sentAt, ...primaryAccount.sentAt].sort((x, y) => x - y);
    for (let i = 1; i < shared.length; i++) expect(shared[i]! - shared[i - 1]!).toBeGreaterThanOrEqual(gap);
    // The other account's quota is its own: its sends interleave with the primary account's (same instants).
    const own = new Set(otherAccount.sentAt);
    expect(shared.some((t) => own.has(t))).toBe(true);
  });
});

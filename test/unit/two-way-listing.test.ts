/**
 * Listing from both ends (domain/two-way-listing.ts): the listing is complete only when nothing can
 * be missing, whatever order AWS sorts names in, including orders with ties that the two directions
 * break differently.
 */
import { describe, expect, it } from 'vitest';
import { collationClass, runsInOrder, spansTwoClasses, TwoWayListing, type ListingEnd } from '../../domain/two-way-listing.js';

interface Entry {
  name: string;
}

/** A deterministic PRNG (mulberry32), so that a failing seed can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A Region that sorts by `key` and breaks ties by creation order in both directions (as AWS sorts a
 * created-date tie, and as a case-insensitive sort would): the descending order is then NOT the
 * ascending order reversed within a tie.
 */
function region(names: string[], key: (n: string) => string): Record<ListingEnd, string[]> {
  const created = new Map(names.map((n, i) => [n, i]));
  const cmp = (a: string, b: string, sign: number) => {
    const ka = key(a);
    const kb = key(b);
    if (ka !== kb) return ka < kb ? -sign : sign;
    return created.get(a)! - created.get(b)!; // ties: creation order, whichever the direction
  };
  return { asc: [...names].sort((a, b) => cmp(a, b, 1)), desc: [...names].sort((a, b) => cmp(a, b, -1)) };
}

/** Drives a listing the way the workflow does: the ends take turns, `pages` names per answer, until complete. */
function list(order: Record<ListingEnd, string[]>, pageSize: number, rng: () => number, sorted = true): { listing: TwoWayListing<Entry>; answers: number } {
  const listing = new TwoWayListing<Entry>();
  const at: Record<ListingEnd, number> = { asc: 0, desc: 0 };
  let answers = 0;
  while (listing.wantsMore) {
    const end: ListingEnd = rng() < 0.5 ? 'asc' : 'desc';
    if (at[end] >= order[end].length && order[end].length > 0) continue;
    const page = order[end].slice(at[end], at[end] + pageSize).map((name) => ({ name }));
    at[end] += pageSize;
    listing.add(end, page, at[end] < order[end].length, sorted);
    answers++;
    if (answers > 10_000) throw new Error('never completed');
  }
  return { listing, answers };
}

describe('collation classes', () => {
  it('fold case and drop everything but letters and digits', () => {
    expect(collationClass('App/DB-main')).toBe(collationClass('app/db_main'));
    expect(collationClass('app/db1')).not.toBe(collationClass('app/db2'));
    expect(spansTwoClasses(['a/x', 'A/X'], new Set(['a/x', 'A/X']))).toBe(false);
    expect(spansTwoClasses(['a/x', 'a/y'], new Set(['a/x', 'a/y']))).toBe(true);
    expect(spansTwoClasses(['a/x', 'a/y'], new Set(['a/x']))).toBe(false);
  });
});

describe('TwoWayListing', () => {
  it('lists a Region of 2,000 names once each, in about half the pages per end', () => {
    const names = Array.from({ length: 2_000 }, (_, i) => `app/s${String(i).padStart(5, '0')}`);
    const { listing, answers } = list(
      region(names, (n) => n),
      100,
      prng(1),
    );
    const got = listing.entries().map((e) => e.name);
    expect(new Set(got).size).toBe(got.length);
    expect([...got].sort()).toEqual([...names].sort());
    expect(got).toEqual([...names].sort()); // ascending end, then the descending end's rest from its far end
    expect(answers).toBeLessThanOrEqual(22); // 20 pages in all, and the page or two where the ends overlap
  });

  it('never completes with a name missing, whatever the sort and its ties (1,000 random Regions)', () => {
    // A small alphabet with case and punctuation variants forces many ties under the folding sorts.
    const alphabet = ['a', 'A', 'b', 'B', '-', '_', '1'];
    const sorts: Record<string, (n: string) => string> = {
      binary: (n) => n,
      'case-insensitive': (n) => n.toLowerCase(),
      'punctuation-blind': (n) => n.toLowerCase().replace(/[^a-z0-9]/g, ''),
    };
    let naiveLost = 0;
    for (let seed = 1; seed <= 1_000; seed++) {
      const rng = prng(seed);
      const count = 1 + Math.floor(rng() * 60);
      const names = new Set<string>();
      while (names.size < count) names.add(Array.from({ length: 1 + Math.floor(rng() * 3) }, () => alphabet[Math.floor(rng() * alphabet.length)]).join(''));
      const all = [...names];
      for (const [sortName, key] of Object.entries(sorts)) {
        const order = region(all, key);
        const pageSize = 1 + Math.floor(rng() * 5);
        const { listing } = list(order, pageSize, prng(seed * 31));
        const got = new Set(listing.entries().map((e) => e.name));
        const lost = all.filter((n) => !got.has(n));
        expect(lost, `seed ${seed}, ${sortName} sort, pages of ${pageSize}`).toEqual([]);
        // The naive rule (stop at the first name both ends listed) loses names in these same Regions:
        // the test's Regions are adversarial enough to catch a weaker rule.
        const seen: Record<ListingEnd, Set<string>> = { asc: new Set(), desc: new Set() };
        const at: Record<ListingEnd, number> = { asc: 0, desc: 0 };
        const r = prng(seed * 31);
        for (let guard = 0; guard < 10_000; guard++) {
          const end: ListingEnd = r() < 0.5 ? 'asc' : 'desc';
          const other = seen[end === 'asc' ? 'desc' : 'asc'];
          const page = order[end].slice(at[end], at[end] + pageSize);
          at[end] += pageSize;
          page.forEach((n) => seen[end].add(n));
          if (at[end] >= order[end].length || page.some((n) => other.has(n))) break;
        }
        if (all.some((n) => !seen.asc.has(n) && !seen.desc.has(n))) naiveLost++;
      }
    }
    expect(naiveLost).toBeGreaterThan(0);
  });

  it('answers not sorted as asked (an older worker) complete only when an end is exhausted', () => {
    const names = Array.from({ length: 500 }, (_, i) => `app/${i}`);
    // Both ends get the same created-date order: an overlap means nothing.
    const { listing } = list({ asc: names, desc: names }, 100, prng(7), false);
    expect(
      listing
        .entries()
        .map((e) => e.name)
        .sort(),
    ).toEqual([...names].sort());
    const partial = new TwoWayListing<Entry>();
    partial.add(
      'asc',
      names.slice(0, 100).map((name) => ({ name })),
      true,
      false,
    );
    partial.add(
      'desc',
      names.slice(0, 100).map((name) => ({ name })),
      true,
      false,
    );
    expect(partial.complete).toBe(false);
    expect(() => partial.entries()).toThrow(/not complete/);
  });

  it('an end that read its pages in two orders (a rolling upgrade) proves nothing when it runs out', () => {
    const names = Array.from({ length: 300 }, (_, i) => ({ name: `app/${String(i).padStart(3, '0')}` }));
    const l = new TwoWayListing<Entry>();
    l.add('asc', names.slice(0, 100), true, true); // a new worker: sorted by name
    l.add('asc', names.slice(250), false, false); // an old worker continued the token in another order: last page
    expect(l.complete).toBe(false);
    const whole = new TwoWayListing<Entry>();
    whole.add('asc', names.slice(0, 100), true, false);
    whole.add('asc', names.slice(100), false, false); // every page unsorted, in one order: exhausted is exhausted
    expect(whole.complete).toBe(true);
  });

  it('once complete, stays complete: an unsorted answer after the ends met changes nothing', () => {
    const l = new TwoWayListing<Entry>();
    l.add(
      'asc',
      ['a1', 'a2', 'a3'].map((name) => ({ name })),
      true,
      true,
    );
    l.add(
      'desc',
      ['a3', 'a2', 'a1'].map((name) => ({ name })),
      true,
      true,
    );
    expect(l.complete).toBe(true);
    l.add('desc', [{ name: 'zz' }], true, false);
    expect(l.complete).toBe(true);
    expect(l.entries().map((e) => e.name)).toEqual(['a1', 'a2', 'a3', 'zz']);
  });

  it('an answer runs in order only if its names do under one key AWS could sort by', () => {
    expect(runsInOrder(['a-b', 'a0', 'a_b'], 'asc')).toBe(true); // binary
    expect(runsInOrder(['App', 'apple', 'Apricot'], 'asc')).toBe(true); // case-insensitive
    expect(runsInOrder(['a_b', 'ac', 'a-d'], 'asc')).toBe(true); // punctuation-blind
    expect(runsInOrder(['b', 'a', 'c'], 'asc')).toBe(false);
    expect(runsInOrder(['c', 'b', 'b', 'a'], 'desc')).toBe(true);
    expect(runsInOrder(['a', 'c'], 'desc')).toBe(false);
    // Listed by creation date (an endpoint that ignored SortBy): the names do not run by name.
    expect(runsInOrder(['s2', 's9', 's1'], 'asc')).toBe(false);
  });

  it('an empty Region is complete at the first answer; an abandoned listing asks for nothing more', () => {
    const empty = new TwoWayListing<Entry>();
    empty.add('asc', [], false, true);
    expect(empty.complete).toBe(true);
    expect(empty.entries()).toEqual([]);
    const failed = new TwoWayListing<Entry>();
    failed.add('asc', [{ name: 'a' }], true, true);
    failed.abandon();
    expect(failed.wantsMore).toBe(false);
    expect(failed.complete).toBe(false);
  });

  it('gives each end the other end’s last names to stop at, and none when answers were not sorted', () => {
    const l = new TwoWayListing<Entry>();
    l.add(
      'desc',
      Array.from({ length: 150 }, (_, i) => ({ name: `n${999 - i}` })),
      true,
      true,
    );
    expect(l.tail('desc')).toHaveLength(100);
    expect(l.tail('desc')[99]).toBe('n850');
    l.add('asc', [{ name: 'a' }], true, false);
    expect(l.tail('desc')).toEqual([]);
  });
});

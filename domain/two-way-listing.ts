/**
 * Listing a Region from both ends at once: one end lists by name ascending, the other descending
 * (ListSecrets' SortBy `name`), and the listing is complete when they meet. Twice the pages per
 * second that one paginated listing can read, with nothing lost:
 *
 * - **Exhausted.** An end that reached its last page listed everything by itself.
 * - **Met.** Otherwise the ends must have both listed names of two different collation classes.
 *   A class is a name lower-cased with everything but letters and digits removed. That is as coarse
 *   as any collation AWS could sort names by: case-insensitive, punctuation-blind or binary.
 *   AWS sorts by some key K (the name, or a folded name); the class is at least as coarse as K,
 *   so two names of different classes have different keys. Within one key, the two ends may order
 *   names differently (a tie), but the keys come in one order.
 *   Why that is enough: take shared names x and y of different classes, K(x) < K(y). The ascending
 *   end listed y, so it listed every name whose key is below K(y). The descending end listed x, so
 *   it listed every name whose key is above K(x). Every key is below K(y) or above K(x).
 *
 * Nothing here depends on which of those keys AWS sorts by, only on each end being a prefix of one
 * order and its reverse. The activity says whether its answer was sorted as asked: it echoes the
 * order only when the names it listed run that way under one such key (an endpoint that ignored
 * SortBy, or an older worker, is caught). An answer that was not turns the "met" rule off: only an
 * exhausted end whose pages all came in one order completes the listing then.
 */

export type ListingEnd = 'asc' | 'desc';

/** The collation class of a name (see the module comment). */
export function collationClass(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]/g, '');
}

/** Names shared with `other` span at least two collation classes (the "met" rule). */
export function spansTwoClasses(names: Iterable<string>, other: { has(name: string): boolean }): boolean {
  let first: string | undefined;
  for (const n of names) {
    if (!other.has(n)) continue;
    const c = collationClass(n);
    if (first === undefined) first = c;
    else if (c !== first) return true;
  }
  return false;
}

/** The sort keys AWS could list names by: binary, case-insensitive, punctuation-blind (each finer than the class). */
const SORT_KEYS: ReadonlyArray<(name: string) => string> = [(n) => n, (n) => n.toLowerCase(), collationClass];

/** The names run in `order` (ties allowed) under one of the sort keys AWS could use. */
export function runsInOrder(names: readonly string[], order: ListingEnd): boolean {
  return SORT_KEYS.some((key) => {
    for (let i = 1; i < names.length; i++) {
      const a = key(names[i - 1]!);
      const b = key(names[i]!);
      if (order === 'asc' ? a > b : a < b) return false;
    }
    return true;
  });
}

/** How many of an end's last names the other end is given, to stop at (see `tail`). */
const TAIL_NAMES = 100;

export class TwoWayListing<T extends { name: string }> {
  readonly #seen: Record<ListingEnd, Map<string, T>> = { asc: new Map(), desc: new Map() };
  readonly #tail: Record<ListingEnd, string[]> = { asc: [], desc: [] };
  /** Per end: answers sorted as asked, and answers not (an end with both read its pages in two orders). */
  readonly #answers: Record<ListingEnd, { sorted: number; unsorted: number }> = { asc: { sorted: 0, unsorted: 0 }, desc: { sorted: 0, unsorted: 0 } };
  /** Collation classes of the names both ends listed (two make the ends met). */
  readonly #shared = new Set<string>();
  #complete = false;
  #abandoned = false;

  /** One answer of one end: its entries in the order listed; `more` when that end has further pages; `sorted` when the answer was sorted as asked. */
  add(end: ListingEnd, entries: readonly T[], more: boolean, sorted: boolean): void {
    const answers = this.#answers[end];
    if (sorted) answers.sorted++;
    else answers.unsorted++;
    const mine = this.#seen[end];
    const other = this.#seen[end === 'asc' ? 'desc' : 'asc'];
    for (const e of entries) {
      mine.set(e.name, e);
      if (other.has(e.name)) this.#shared.add(collationClass(e.name));
    }
    if (entries.length > 0) this.#tail[end] = entries.slice(-TAIL_NAMES).map((e) => e.name);
    // Exhausted: the end listed everything, if it read all its pages in one order (during a rolling upgrade an
    // end's pages may come from a worker that sorts and one that does not: that end proves nothing).
    if (!more && (answers.sorted === 0 || answers.unsorted === 0)) this.#complete = true;
    // Met: only while every answer of both ends was sorted as asked. Once complete, a later answer changes nothing.
    if (!this.#anyUnsorted && this.#shared.size >= 2) this.#complete = true;
  }

  get #anyUnsorted(): boolean {
    return this.#answers.asc.unsorted + this.#answers.desc.unsorted > 0;
  }

  /** Every name is listed (an end exhausted, or the ends met in sorted answers); once true, it stays true. */
  get complete(): boolean {
    return this.#complete;
  }

  /** An end failed: the other stops after its call in flight (the listing failed). */
  abandon(): void {
    this.#abandoned = true;
  }

  /** An end should ask for another page. */
  get wantsMore(): boolean {
    return !this.#complete && !this.#abandoned;
  }

  /** The last names `end` listed, for the other end to stop at once it lists two classes of them (it met this end). */
  tail(end: ListingEnd): string[] {
    return this.#anyUnsorted ? [] : this.#tail[end];
  }

  /** Everything either end listed, once: the ascending end's names, then the descending end's others from its far end. */
  entries(): T[] {
    if (!this.#complete) throw new Error('the listing is not complete');
    const out = new Map(this.#seen.asc);
    for (const e of [...this.#seen.desc.values()].reverse()) if (!out.has(e.name)) out.set(e.name, e);
    return [...out.values()];
  }
}

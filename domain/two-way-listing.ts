/**
 * Listing a Region from both ends at once: one end lists by name ascending, the other descending
 * (ListSecrets' SortBy `name`), and the listing is complete when they meet. Twice the pages per
 * second that one paginated listing can read, with nothing lost:
 *
 * - **Exhausted.** An end that reached its last page listed everything by itself.
 * - **Met.** Otherwise the ends must have both listed names of two different collation classes.
 *   A class is a name lower-cased with everything but letters and digits removed. That is as coarse
 *   as any collation AWS could sort names by: case-insensitive, punctuation-blind or binary.
 *   Within a class, the two ends may order names differently (a tie in AWS's sort), but the classes
 *   come in one order.
 *   Why that is enough: take c1 < c2, both listed by both ends. The ascending end listed a name of
 *   c2, so it listed every class below c2 whole. The descending end listed a name of c1, so it
 *   listed every class above c1 whole. Every class is below c2 or above c1.
 *
 * Nothing here depends on how AWS orders names, only on each end being a prefix of one order and
 * its reverse. An answer that was not sorted as asked (an older worker that ignores the order) turns
 * the "met" rule off: only an exhausted end completes the listing then.
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

/** How many of an end's last names the other end is given, to stop at (see `tail`). */
const TAIL_NAMES = 100;

export class TwoWayListing<T extends { name: string }> {
  readonly #seen: Record<ListingEnd, Map<string, T>> = { asc: new Map(), desc: new Map() };
  readonly #tail: Record<ListingEnd, string[]> = { asc: [], desc: [] };
  /** Collation classes of the names both ends listed (two make the ends met). */
  readonly #shared = new Set<string>();
  #exhausted = false;
  #sorted = true;
  #abandoned = false;

  /** One answer of one end: its entries in the order listed; `more` when that end has further pages; `sorted` when the answer was sorted as asked. */
  add(end: ListingEnd, entries: readonly T[], more: boolean, sorted: boolean): void {
    if (!sorted) this.#sorted = false;
    const mine = this.#seen[end];
    const other = this.#seen[end === 'asc' ? 'desc' : 'asc'];
    for (const e of entries) {
      mine.set(e.name, e);
      if (other.has(e.name)) this.#shared.add(collationClass(e.name));
    }
    if (entries.length > 0) this.#tail[end] = entries.slice(-TAIL_NAMES).map((e) => e.name);
    if (!more) this.#exhausted = true;
  }

  /** Every name is listed (an end exhausted, or the ends met in sorted answers). */
  get complete(): boolean {
    return this.#exhausted || (this.#sorted && this.#shared.size >= 2);
  }

  /** An end failed: the other stops after its call in flight (the listing failed). */
  abandon(): void {
    this.#abandoned = true;
  }

  /** An end should ask for another page. */
  get wantsMore(): boolean {
    return !this.complete && !this.#abandoned;
  }

  /** The last names `end` listed, for the other end to stop at once it lists two classes of them (it met this end). */
  tail(end: ListingEnd): string[] {
    return this.#sorted ? this.#tail[end] : [];
  }

  /** Everything either end listed, once: the ascending end's names, then the descending end's others from its far end. */
  entries(): T[] {
    if (!this.complete) throw new Error('the listing is not complete');
    const out = new Map(this.#seen.asc);
    for (const e of [...this.#seen.desc.values()].reverse()) if (!out.has(e.name)) out.set(e.name, e);
    return [...out.values()];
  }
}

import { assert } from '../log/assert.js';

export interface TurnBounds<T> {
  /** Items one turn takes at most. */
  readonly itemsMax: number;
  /** Entries one turn takes at most, past its first item (an item is never split). */
  readonly entriesMax: number;
  /** The entries an item carries: what stepping it costs, in the unit of entriesMax. */
  readonly entries: (item: T) => number;
}

/**
 * Removes and returns the head of `queue` that one turn of a loop may take: in arrival order, at
 * most `itemsMax` items and, beyond the first item, at most `entriesMax` entries. The first item
 * is always taken, so a turn always makes progress. Bounding by entries keeps a turn short when a
 * few items carry tens of thousands of entries each, as accepts do under a burst of appends.
 */
export function takeTurn<T>(queue: T[], bounds: TurnBounds<T>): T[] {
  assert(Number.isSafeInteger(bounds.itemsMax) && bounds.itemsMax >= 1, `itemsMax ${bounds.itemsMax}`);
  assert(Number.isSafeInteger(bounds.entriesMax) && bounds.entriesMax >= 1, `entriesMax ${bounds.entriesMax}`);
  let taken = 0;
  let entries = 0;
  while (taken < queue.length && taken < bounds.itemsMax) {
    const itemEntries = bounds.entries(queue[taken]!);
    assert(Number.isSafeInteger(itemEntries) && itemEntries >= 0, `an item counts ${itemEntries} entries`);
    if (taken > 0 && entries + itemEntries > bounds.entriesMax) break;
    entries += itemEntries;
    taken++;
  }
  return queue.splice(0, taken);
}

import { assert } from './assert.js';

/**
 * The bounded window of recently committed client ids. Every replica feeds it the same committed
 * entries in the same order, so every replica holds the same window.
 */
export class DedupWindow {
  private readonly offsetById = new Map<string, number>();

  constructor(
    private readonly idsMax: number,
    initial: ReadonlyArray<readonly [string, number]>,
  ) {
    assert(idsMax >= 1, 'dedup window needs room');
    for (const [id, offset] of initial) this.add(id, offset);
  }

  offsetOf(id: string): number | undefined {
    return this.offsetById.get(id);
  }

  add(id: string, offset: number): void {
    assert(!this.offsetById.has(id), `dedup id ${id} added twice`);
    this.offsetById.set(id, offset);
    if (this.offsetById.size > this.idsMax) {
      const oldest = this.offsetById.keys().next();
      assert(oldest.done !== true, 'dedup window empty while over its bound');
      this.offsetById.delete(oldest.value);
    }
  }

  /** Oldest first, as LearnerState keeps it. */
  entries(): Array<readonly [string, number]> {
    return [...this.offsetById.entries()];
  }
}

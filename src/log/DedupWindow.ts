import { assert, fail } from './assert.js';

/**
 * The bounded window of recently committed client ids. Every replica feeds it the same committed
 * entries in the same order, so every replica holds the same window.
 *
 * The ids also sit in a ring in commit order, so evicting the oldest is O(1). (Deleting a Map's
 * first key again and again would not be: V8 leaves a hole per deleted entry, and each
 * `keys().next()` walks past every hole left since the last rehash.)
 */
export class DedupWindow {
  private readonly offsetById = new Map<string, number>();
  private readonly ring: string[] = [];
  /** Where the oldest id sits in the ring once the ring is full. */
  private oldestAt = 0;

  constructor(
    private readonly idsMax: number,
    initial: ReadonlyArray<readonly [string, number]>,
  ) {
    assert(Number.isSafeInteger(idsMax) && idsMax >= 1, 'dedup window needs room');
    for (const [id, offset] of initial) this.add(id, offset);
  }

  offsetOf(id: string): number | undefined {
    return this.offsetById.get(id);
  }

  add(id: string, offset: number): void {
    // The learner has just looked id up: checked by the size, not by another lookup. A failed check
    // leaves the window changed, but an InvariantError stops the replica.
    const sizeBefore = this.offsetById.size;
    this.offsetById.set(id, offset);
    if (this.offsetById.size === sizeBefore) fail(`dedup id ${id} added twice`);
    if (this.ring.length < this.idsMax) {
      this.ring.push(id);
      return;
    }
    const oldest = this.ring[this.oldestAt];
    assert(oldest !== undefined && this.offsetById.delete(oldest), 'dedup ring and map disagree');
    this.ring[this.oldestAt] = id;
    this.oldestAt = (this.oldestAt + 1) % this.idsMax;
    assert(this.offsetById.size === this.idsMax, 'dedup window over its bound');
  }

  /** Oldest first, as LearnerState keeps it. */
  entries(): Array<readonly [string, number]> {
    const ordered = [...this.ring.slice(this.oldestAt), ...this.ring.slice(0, this.oldestAt)];
    return ordered.map((id) => [id, this.offsetById.get(id)!] as const);
  }
}

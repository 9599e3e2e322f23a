import { assert, fail } from './assert.js';

/** Slots per id the table keeps at least: a load of one half keeps probe runs short. */
const slotsPerIdMin = 2;
/** The table's first size; it doubles as ids arrive, so a learner that sees few ids costs little. */
const slotsCountFirst = 16;

/**
 * The bounded window of recently committed client ids. Every replica feeds it the same committed
 * entries in the same order, so every replica holds the same window.
 *
 * The ids sit in a ring in commit order, so evicting the oldest is O(1), and an open-addressing
 * table (linear probing, typed arrays) maps an id's hash to its place in the ring. Every committed
 * entry with an id costs a lookup, an insert and, once the window is full, a delete: with a Map of
 * 100,000 string keys those were 12% of each replica's CPU under the producer's load, most of it
 * cache misses in the Map's tables and the collector tracing them. Here a probe reads an Int32Array
 * and compares an id's string only when its 32-bit hash matches.
 */
export class DedupWindow {
  /** Ring place + 1 of the id in each slot; 0: empty. It doubles as the ring fills (a window may never fill). */
  private slots = new Int32Array(slotsCountFirst);
  private mask = slotsCountFirst - 1;
  private readonly ids: string[] = [];
  /** Per ring place (typed arrays: a hash as a plain array's element would often be a heap number). */
  private offsets = new Float64Array(slotsCountFirst / slotsPerIdMin);
  private hashes = new Int32Array(slotsCountFirst / slotsPerIdMin);
  /** Where the oldest id sits in the ring once the ring is full. */
  private oldestAt = 0;

  constructor(
    private readonly idsMax: number,
    initial: ReadonlyArray<readonly [string, number]>,
  ) {
    assert(Number.isSafeInteger(idsMax) && idsMax >= 1 && idsMax <= 1 << 28, 'dedup window needs room, within 2^28 ids');
    for (const [id, offset] of initial) this.add(id, offset);
  }

  offsetOf(id: string): number | undefined {
    const slot = this.slotOf(id, idHash(id));
    return slot < 0 ? undefined : this.offsets[this.slots[slot]! - 1];
  }

  add(id: string, offset: number): void {
    const hash = idHash(id);
    if (this.slotOf(id, hash) >= 0) fail(`dedup id ${id} added twice`);
    let place = this.ids.length;
    if (place < this.idsMax) {
      if (place === this.hashes.length) this.grow();
      this.ids.push(id);
      this.offsets[place] = offset;
      this.hashes[place] = hash;
    } else {
      place = this.oldestAt;
      const slot = this.slotOf(this.ids[place]!, this.hashes[place]!);
      assert(slot >= 0 && this.slots[slot] === place + 1, 'dedup ring and table disagree');
      this.slotFree(slot);
      this.ids[place] = id;
      this.offsets[place] = offset;
      this.hashes[place] = hash;
      this.oldestAt = (place + 1) % this.idsMax;
    }
    this.slotTake(place);
  }

  /** Oldest first, as LearnerState keeps it. */
  entries(): Array<readonly [string, number]> {
    const places = [...this.ids.keys()];
    const ordered = [...places.slice(this.oldestAt), ...places.slice(0, this.oldestAt)];
    return ordered.map((place) => [this.ids[place]!, this.offsets[place]!] as const);
  }

  /** Puts ring place `place` into the first empty slot of its probe run. */
  private slotTake(place: number): void {
    let slot = this.hashes[place]! & this.mask;
    while (this.slots[slot] !== 0) slot = (slot + 1) & this.mask;
    this.slots[slot] = place + 1;
  }

  /** Doubles the ring's room and the table, and puts every id back. */
  private grow(): void {
    const room = 2 * this.hashes.length;
    const offsets = new Float64Array(room);
    offsets.set(this.offsets);
    const hashes = new Int32Array(room);
    hashes.set(this.hashes);
    this.offsets = offsets;
    this.hashes = hashes;
    this.slots = new Int32Array(slotsPerIdMin * room);
    this.mask = this.slots.length - 1;
    for (let place = 0; place < this.ids.length; place++) this.slotTake(place);
  }

  /** The slot holding `id`, or -1. */
  private slotOf(id: string, hash: number): number {
    for (let slot = hash & this.mask; ; slot = (slot + 1) & this.mask) {
      const held = this.slots[slot]!;
      if (held === 0) return -1;
      if (this.hashes[held - 1] === hash && this.ids[held - 1] === id) return slot;
    }
  }

  /**
   * Empties a slot and moves later ids of its probe run back into the hole, so that every id
   * stays reachable from its home slot with no empty slot between (no tombstones to pile up).
   */
  private slotFree(freed: number): void {
    let hole = freed;
    this.slots[hole] = 0;
    for (let slot = (hole + 1) & this.mask; this.slots[slot] !== 0; slot = (slot + 1) & this.mask) {
      const home = this.hashes[this.slots[slot]! - 1]! & this.mask;
      // The id at `slot` may move into the hole unless its home lies cyclically in (hole, slot].
      const stays = hole <= slot ? hole < home && home <= slot : hole < home || home <= slot;
      if (stays) continue;
      this.slots[hole] = this.slots[slot]!;
      this.slots[slot] = 0;
      hole = slot;
    }
  }
}

/** FNV-1a over an id's UTF-16 units, as a signed 32-bit integer. */
function idHash(id: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) hash = Math.imul(hash ^ id.charCodeAt(i), 0x01000193);
  return hash | 0;
}

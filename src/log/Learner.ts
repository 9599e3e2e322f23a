import { assert } from './assert.js';
import { DedupWindow } from './DedupWindow.js';
import { type CommittedBatch, type CommittedEntry, committedEntryMake, type EntryResult, type LearnerState, type Value } from './types.js';

/**
 * The learner holds chosen values above its committed instance and releases them strictly in
 * instance order. Releasing assigns offsets (offset = entries committed before), applies the
 * dedup window and the expected-offset condition, and makes timestamps monotonic. All of this is a
 * pure function of the chosen sequence, so every replica computes the same offsets.
 */
export class Learner {
  protected committed: number;
  private offsetNext: number;
  private timestampLastMs: number;
  private readonly dedup: DedupWindow;
  protected readonly chosen = new Map<number, Value>();

  constructor(state: LearnerState, options: { dedupIdsMax: number }) {
    assert(state.committedInstance >= 0 && state.offsetNext >= 0, 'learner state out of range');
    this.committed = state.committedInstance;
    this.offsetNext = state.offsetNext;
    this.timestampLastMs = state.timestampLastMs;
    this.dedup = new DedupWindow(options.dedupIdsMax, state.dedup);
  }

  get committedInstance(): number {
    return this.committed;
  }

  /** The offset the next committed entry gets (cheap, unlike state()). */
  get offsetNextValue(): number {
    return this.offsetNext;
  }

  /** The highest instance known chosen, released or not. */
  get chosenInstanceMax(): number {
    let highest = this.committed;
    for (const instance of this.chosen.keys()) if (instance > highest) highest = instance;
    return highest;
  }

  /** A chosen value above the committed instance, if known. */
  chosenValue(instance: number): Value | undefined {
    return this.chosen.get(instance);
  }

  isChosen(instance: number): boolean {
    return instance <= this.committed || this.chosen.has(instance);
  }

  /** Records that `value` was chosen for `instance`. Returns false when it was known already. */
  add(instance: number, value: Value): boolean {
    assert(Number.isSafeInteger(instance) && instance >= 1, `chosen instance ${instance}`);
    if (instance <= this.committed) return false;
    const known = this.chosen.get(instance);
    if (known !== undefined) {
      assert(known.valueId === value.valueId, `instance ${instance} chosen twice: ${known.valueId} and ${value.valueId}`);
      return false;
    }
    this.chosen.set(instance, value);
    return true;
  }

  /** Releases every batch that is now contiguous with the committed prefix. */
  release(): CommittedBatch[] {
    const released: CommittedBatch[] = [];
    for (;;) {
      const instance = this.nextReleasable();
      if (instance === null) return released;
      const value = this.chosen.get(instance);
      assert(value !== undefined, `releasable instance ${instance} has no value`);
      this.chosen.delete(instance);
      released.push(this.apply(instance, value));
    }
  }

  /** The next instance to release. Strict order: only the one right after the committed prefix. */
  protected nextReleasable(): number | null {
    return this.chosen.has(this.committed + 1) ? this.committed + 1 : null;
  }

  private apply(instance: number, value: Value): CommittedBatch {
    assert(instance > this.committed, `instance ${instance} released after ${this.committed}`);
    const timestampMs = Math.max(this.timestampLastMs, value.timestampMs);
    const entries: CommittedEntry[] = [];
    const results: EntryResult[] = [];
    for (const entry of value.entries) {
      const seen = entry.id === undefined ? undefined : this.dedup.offsetOf(entry.id);
      if (seen !== undefined) {
        results.push({ status: 'duplicate', offset: seen });
      } else if (entry.expectedOffset !== undefined && entry.expectedOffset !== this.offsetNext) {
        results.push({ status: 'conflict', offsetNext: this.offsetNext });
      } else {
        const offset = this.offsetNext++;
        if (entry.id !== undefined) this.dedup.add(entry.id, offset);
        entries.push(committedEntryMake({ offset, data: entry.data, id: entry.id, key: entry.key, timestampMs }));
        results.push({ status: 'ok', offset });
      }
    }
    this.committed = instance;
    this.timestampLastMs = timestampMs;
    return { instance, valueId: value.valueId, timestampMs, entries, results, offsetNext: this.offsetNext };
  }

  state(): LearnerState {
    return {
      committedInstance: this.committed,
      offsetNext: this.offsetNext,
      timestampLastMs: this.timestampLastMs,
      dedup: this.dedup.entries(),
    };
  }
}

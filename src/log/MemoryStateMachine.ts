import { assert } from './assert.js';
import { DedupWindow } from './DedupWindow.js';
import type { StateMachine } from './storage.js';
import type { CommittedBatch, CommittedEntry, LearnerState } from './types.js';

/**
 * The in-memory state machine: the committed entries by offset, plus the learner state that lets
 * the core restart from it. It recomputes the dedup window from the entries it applies, exactly as
 * the learner does, so its learnerState() matches the learner's after the same batches.
 */
export class MemoryStateMachine implements StateMachine {
  readonly entries: CommittedEntry[];
  private committedInstance: number;
  private offsetNext: number;
  private timestampLastMs: number;
  private readonly dedup: DedupWindow;

  constructor(options: { state: LearnerState; entries: readonly CommittedEntry[]; dedupIdsMax: number }) {
    assert(options.entries.length === options.state.offsetNext, 'state machine entries do not match its offset');
    this.entries = [...options.entries];
    this.committedInstance = options.state.committedInstance;
    this.offsetNext = options.state.offsetNext;
    this.timestampLastMs = options.state.timestampLastMs;
    this.dedup = new DedupWindow(options.dedupIdsMax, options.state.dedup);
  }

  apply(batch: CommittedBatch): void {
    assert(batch.instance === this.committedInstance + 1, `applied ${batch.instance} after ${this.committedInstance}`);
    for (const entry of batch.entries) {
      assert(entry.offset === this.offsetNext, `entry offset ${entry.offset}, expected ${this.offsetNext}`);
      this.entries.push(entry);
      this.offsetNext++;
      if (entry.id !== undefined) this.dedup.add(entry.id, entry.offset);
    }
    assert(batch.offsetNext === this.offsetNext, 'batch offsetNext disagrees with the state machine');
    this.committedInstance = batch.instance;
    this.timestampLastMs = batch.timestampMs;
  }

  learnerState(): LearnerState {
    return {
      committedInstance: this.committedInstance,
      offsetNext: this.offsetNext,
      timestampLastMs: this.timestampLastMs,
      dedup: this.dedup.entries(),
    };
  }
}

import type { CommittedBatch, HardState, InstanceRecord, LearnerState } from './types.js';

/**
 * Storage interfaces, one per concern (after hashicorp/raft). The core only *reads* through
 * LogStoreReader, synchronously, for records it no longer keeps in memory. Every write travels
 * through Ready, so the driver controls when it becomes durable.
 */
export interface LogStoreReader {
  /** Durable records with instanceFrom <= instance <= instanceTo, ascending, at most recordsMax. */
  records(options: { instanceFrom: number; instanceTo: number; recordsMax: number }): InstanceRecord[];
  /** The highest instance with a durable record (or compacted away), or 0. */
  instanceMax(): number;
  /** Every instance up to this one was compacted away with its record; 0 when none was. */
  compactedInstance(): number;
}

export interface LogStore extends LogStoreReader {
  /** Stores records in order; a later record for an instance replaces the earlier one. */
  write(records: readonly InstanceRecord[]): void;
}

export interface StableStore {
  hardState(): HardState;
  setHardState(hardState: HardState): void;
}

/** The replicated state machine: consumes committed batches strictly in instance order. */
export interface StateMachine {
  apply(batch: CommittedBatch): void;
  /** What the learner restarts from. May lag what was applied (seed question 6). */
  learnerState(): LearnerState;
}

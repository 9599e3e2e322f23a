import { assert } from './assert.js';
import { ballotZero } from './ballot.js';
import type { LogStore, StableStore } from './storage.js';
import type { HardState, InstanceRecord } from './types.js';

/** In-memory LogStore for the simulator and unit tests. */
export class MemoryLogStore implements LogStore {
  private readonly byInstance = new Map<number, InstanceRecord>();
  private instanceHighest = 0;
  private compacted = 0;

  write(records: readonly InstanceRecord[]): void {
    for (const record of records) {
      assert(Number.isSafeInteger(record.instance) && record.instance >= 1, `record instance ${record.instance}`);
      this.byInstance.set(record.instance, record);
      if (record.instance > this.instanceHighest) this.instanceHighest = record.instance;
    }
  }

  records(options: { instanceFrom: number; instanceTo: number; recordsMax: number }): InstanceRecord[] {
    const found: InstanceRecord[] = [];
    const to = Math.min(options.instanceTo, this.instanceHighest);
    for (let instance = options.instanceFrom; instance <= to && found.length < options.recordsMax; instance++) {
      const record = this.byInstance.get(instance);
      if (record !== undefined) found.push(record);
    }
    return found;
  }

  /** The record at `instance`, if any. */
  record(instance: number): InstanceRecord | undefined {
    return this.byInstance.get(instance);
  }

  /** Puts back what an unsynced write replaced (the simulator's crash rolls back unsynced writes). */
  restore(instance: number, record: InstanceRecord | undefined): void {
    if (record !== undefined) {
      this.byInstance.set(instance, record);
      return;
    }
    this.byInstance.delete(instance);
    if (instance === this.instanceHighest) this.instanceHighest = Math.max(0, ...this.byInstance.keys());
  }

  instanceMax(): number {
    return Math.max(this.instanceHighest, this.compacted);
  }

  compactedInstance(): number {
    return this.compacted;
  }

  /** Drops every record up to `instance`, as retention does once their entries are gone. */
  compactThrough(instance: number): void {
    if (instance <= this.compacted) return;
    for (const key of [...this.byInstance.keys()]) if (key <= instance) this.byInstance.delete(key);
    this.compacted = instance;
  }

  /** A deep-enough copy for a simulated disk that survives a crash. */
  clone(): MemoryLogStore {
    const copy = new MemoryLogStore();
    copy.write([...this.byInstance.values()]);
    copy.compacted = this.compacted;
    return copy;
  }
}

export class MemoryStableStore implements StableStore {
  private state: HardState;

  /** `incarnation`: a real store draws it at random when it is created; tests and the simulator pick it. */
  constructor(options: { incarnation: number } = { incarnation: 1 }) {
    this.state = { promised: ballotZero, roundMax: 0, incarnation: options.incarnation };
  }

  hardState(): HardState {
    return this.state;
  }

  setHardState(hardState: HardState): void {
    this.state = hardState;
  }
}

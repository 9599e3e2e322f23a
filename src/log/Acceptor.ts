import { assert } from './assert.js';
import { type Ballot, type ReplicaId, ballotCompare, ballotZero } from './ballot.js';
import type { Effects } from './Effects.js';
import type { AcceptMessage, PrepareMessage } from './messages.js';
import type { LogStoreReader } from './storage.js';
import { type InstanceRecord, type Value, valueBytes } from './types.js';

export interface AcceptorOptions {
  readonly id: ReplicaId;
  readonly promised: Ballot;
  readonly store: LogStoreReader;
  readonly effects: Effects;
  /** Called when the promise changed and must be persisted before any reply leaves. */
  readonly persistHardState: () => void;
  readonly promiseRecordsMax: number;
  readonly promiseBytesMax: number;
  readonly acceptAheadInstancesMax: number;
}

/**
 * The acceptor. Its promise and its accepted records change only together with an effect that
 * persists them, and every reply rides in the same Ready, so the reply leaves after the write.
 * Records above the durable committed instance are kept in memory; older ones are read back
 * from the LogStore.
 */
export class Acceptor {
  protected promisedBallot: Ballot;
  private readonly memory = new Map<number, InstanceRecord>();
  private acceptedMax: number;
  private durableThrough = 0;

  constructor(protected readonly options: AcceptorOptions) {
    this.promisedBallot = options.promised;
    this.acceptedMax = options.store.instanceMax();
  }

  get promised(): Ballot {
    return this.promisedBallot;
  }

  /** The highest instance this acceptor has accepted or persisted a record for. */
  get acceptedInstanceMax(): number {
    return this.acceptedMax;
  }

  /** Loads the records above `committedInstance` after a restart. */
  load(committedInstance: number): InstanceRecord[] {
    this.durableThrough = committedInstance;
    const records = this.options.store.records({
      instanceFrom: committedInstance + 1,
      instanceTo: Number.MAX_SAFE_INTEGER,
      recordsMax: Number.MAX_SAFE_INTEGER,
    });
    for (const record of records) this.memory.set(record.instance, record);
    return records;
  }

  record(instance: number): InstanceRecord | undefined {
    if (instance > this.durableThrough) return this.memory.get(instance);
    return this.options.store.records({ instanceFrom: instance, instanceTo: instance, recordsMax: 1 })[0];
  }

  /** Phase 1b: promise `ballot` for every instance, or reject it. Returns true if promised. */
  onPrepare(message: PrepareMessage, committedInstance: number): boolean {
    if (!this.admitsPrepare(message.ballot)) {
      this.reject(message.from, message.ballot);
      return false;
    }
    this.promise(message.ballot);
    const page = this.recordsFrom(message.instanceFrom, this.options.promiseRecordsMax + 1);
    let count = 0;
    let bytes = 0;
    // A page stops before it would pass promiseBytesMax (one record always goes): a page that could
    // pass it by a whole value might outgrow a NATS message, and be lost on every retry.
    while (count < page.length && count < this.options.promiseRecordsMax) {
      const recordBytes = valueBytes(page[count]!.value);
      if (count > 0 && bytes + recordBytes > this.options.promiseBytesMax) break;
      bytes += recordBytes;
      count++;
    }
    const more = page.length > count;
    const records = more ? page.slice(0, count) : page;
    const last = records[records.length - 1];
    this.options.effects.send(message.from, {
      type: 'promise',
      from: this.options.id,
      ballot: message.ballot,
      instanceFrom: message.instanceFrom,
      records,
      instanceNext: more && last !== undefined ? last.instance + 1 : null,
      committedInstance,
      compactedInstance: this.options.store.compactedInstance(),
    });
    return true;
  }

  /**
   * Phase 2b. Returns 'accepted', 'rejected', 'chosen' (the instance is known chosen: the caller
   * answers with the chosen value instead), or 'ahead' (too far beyond the committed instance).
   */
  onAccept(message: AcceptMessage, committedInstance: number): 'accepted' | 'rejected' | 'chosen' | 'ahead' {
    if (!this.admitsAccept(message.ballot)) {
      this.reject(message.from, message.ballot);
      return 'rejected';
    }
    if (message.instance <= committedInstance) return 'chosen';
    const existing = this.memory.get(message.instance);
    if (existing !== undefined && existing.chosen) return 'chosen';
    if (message.instance > committedInstance + this.options.acceptAheadInstancesMax) return 'ahead';
    this.promise(message.ballot);
    this.keep({ instance: message.instance, ballot: message.ballot, value: message.value, chosen: false });
    this.options.effects.send(message.from, {
      type: 'accepted',
      from: this.options.id,
      ballot: message.ballot,
      instance: message.instance,
    });
    return 'accepted';
  }

  /** The learner found `value` chosen for `instance`: the record becomes definitive. */
  markChosen(instance: number, value: Value): void {
    const existing = this.memory.get(instance);
    if (existing !== undefined && existing.chosen) {
      assert(existing.value.valueId === value.valueId, `instance ${instance} chosen as two values`);
      return;
    }
    this.keep({ instance, ballot: existing?.ballot ?? ballotZero, value, chosen: true });
  }

  /** After the driver made everything through `committedInstance` durable. */
  forgetThrough(committedInstance: number): void {
    if (committedInstance <= this.durableThrough) return;
    for (const instance of this.memory.keys()) if (instance <= committedInstance) this.memory.delete(instance);
    this.durableThrough = committedInstance;
  }

  /** Raises the promise to at least `ballot` (a rebuilt replica resuming its vote). */
  promiseAtLeast(ballot: Ballot): void {
    this.promise(ballot);
  }

  protected admitsPrepare(ballot: Ballot): boolean {
    return ballotCompare(ballot, this.promisedBallot) >= 0;
  }

  protected admitsAccept(ballot: Ballot): boolean {
    return ballotCompare(ballot, this.promisedBallot) >= 0;
  }

  protected promise(ballot: Ballot): void {
    if (ballotCompare(ballot, this.promisedBallot) <= 0) return;
    this.promisedBallot = ballot;
    this.options.persistHardState();
  }

  private keep(record: InstanceRecord): void {
    this.memory.set(record.instance, record);
    this.persist(record);
    if (record.instance > this.acceptedMax) this.acceptedMax = record.instance;
  }

  /** The record goes into the Ready, so the reply that follows it leaves only after the write. */
  protected persist(record: InstanceRecord): void {
    this.options.effects.records.push(record);
  }

  private reject(to: ReplicaId, ballot: Ballot): void {
    this.options.effects.send(to, { type: 'reject', from: this.options.id, ballot, promised: this.promisedBallot });
  }

  /** Records at or above `instanceFrom`, durable ones from the store and newer ones from memory. */
  private recordsFrom(instanceFrom: number, recordsMax: number): InstanceRecord[] {
    const found: InstanceRecord[] = [];
    if (instanceFrom <= this.durableThrough) {
      found.push(...this.options.store.records({ instanceFrom, instanceTo: this.durableThrough, recordsMax }));
    }
    if (found.length < recordsMax) {
      const newer = [...this.memory.values()]
        .filter((record) => record.instance >= instanceFrom)
        .sort((a, b) => a.instance - b.instance);
      for (const record of newer) {
        if (found.length >= recordsMax) break;
        found.push(record);
      }
    }
    return found;
  }
}

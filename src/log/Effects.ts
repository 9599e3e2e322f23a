import { assert } from './assert.js';
import type { ReplicaId } from './ballot.js';
import type { Envelope, PaxosMessage } from './messages.js';
import type { CommittedBatch, HardState, InstanceRecord, ProposalOutcome } from './types.js';

/** What one Ready hands the driver. Persist first; then send, apply and answer. */
export interface Ready {
  /** Persist when non-null. */
  readonly hardState: HardState | null;
  /** Persist in order; a later record for an instance replaces the earlier one. */
  readonly records: readonly InstanceRecord[];
  /** Apply to the state machine, in this order. */
  readonly committed: readonly CommittedBatch[];
  /** Send only after hardState and records are durable. Messages to self loop back to step(). */
  readonly messages: readonly Envelope[];
  /** Answer proposals after the committed batches are applied. */
  readonly outcomes: readonly ProposalOutcome[];
}

/** The buffer the core's parts write their effects into until the driver takes a Ready. */
export class Effects {
  hardState: HardState | null = null;
  records: InstanceRecord[] = [];
  committed: CommittedBatch[] = [];
  messages: Envelope[] = [];
  outcomes: ProposalOutcome[] = [];

  constructor(private readonly peers: readonly ReplicaId[]) {
    assert(peers.length >= 1, 'a group needs at least one replica');
  }

  send(to: ReplicaId, message: PaxosMessage): void {
    this.messages.push({ to, message });
  }

  /** To every replica, this one included: its own acceptor answers through the same path. */
  broadcast(message: PaxosMessage): void {
    for (const to of this.peers) this.messages.push({ to, message });
  }

  isEmpty(): boolean {
    return (
      this.hardState === null &&
      this.records.length === 0 &&
      this.committed.length === 0 &&
      this.messages.length === 0 &&
      this.outcomes.length === 0
    );
  }

  take(): Ready {
    const ready: Ready = {
      hardState: this.hardState,
      records: this.records,
      committed: this.committed,
      messages: this.messages,
      outcomes: this.outcomes,
    };
    this.hardState = null;
    this.records = [];
    this.committed = [];
    this.messages = [];
    this.outcomes = [];
    return ready;
  }
}

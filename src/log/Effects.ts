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
  /**
   * Send only after the writes are durable (synced when mustSync): they may reveal this replica's
   * vote (promise, accepted, reject, probed) or a ballot this proposer has just raised (prepare).
   * Messages to self loop back to step().
   */
  readonly messages: readonly Envelope[];
  /**
   * May leave at once, before and while the writes are made durable: none reveals a vote or a
   * ballot not yet durable (see leavesEarly). The leader's accepts go out while it writes its own.
   */
  readonly messagesEarly: readonly Envelope[];
  /** Answer proposals after the committed batches are applied. */
  readonly outcomes: readonly ProposalOutcome[];
  /** The writes must be synced before the messages leave: see readyMustSync. */
  readonly mustSync: boolean;
  /**
   * The instances this replica needs next are compacted away at `peer`, through `instanceMin`:
   * the driver installs a snapshot at or beyond it, then restarts the core from it.
   */
  readonly snapshotNeeded: SnapshotNeeded | null;
}

export interface SnapshotNeeded {
  readonly peer: ReplicaId;
  readonly instanceMin: number;
}

/**
 * Whether a Ready's writes must be durable before its messages leave. A promise (hardState) and an
 * accept (a record not yet chosen) are votes: a reply reveals them, so they must survive a crash.
 * A chosen mark and a committed batch are facts about a value already durable on a majority; a
 * crash that loses them only makes the replica learn them again, so their write may skip the fsync
 * (a later synced write in the same write-ahead log makes them durable too).
 */
export function readyMustSync(ready: Pick<Ready, 'hardState' | 'records'>): boolean {
  return ready.hardState !== null || ready.records.some((record) => !record.chosen);
}

/**
 * Whether a message may leave before its Ready's writes are durable: it must not reveal a vote
 * of this replica's acceptor, nor a ballot whose round may not be durable yet.
 * - accept: sent only under a ballot whose Phase 1 completed, so its round was durable before
 *   its prepare left; a proposer that crashes never reuses it, and its own acceptor's vote
 *   counts only once that acceptor has persisted it and answered through the loop-back.
 * - commit, fetched: values already chosen, durable on a majority.
 * - fetch, probe: questions.
 * Everything else (promise, accepted, reject, probed, prepare) waits for the writes.
 */
export function leavesEarly(message: PaxosMessage): boolean {
  switch (message.type) {
    case 'accept':
    case 'commit':
    case 'fetch':
    case 'fetched':
    case 'probe':
      return true;
    default:
      return false;
  }
}

/** The buffer the core's parts write their effects into until the driver takes a Ready. */
export class Effects {
  hardState: HardState | null = null;
  records: InstanceRecord[] = [];
  committed: CommittedBatch[] = [];
  messages: Envelope[] = [];
  messagesEarly: Envelope[] = [];
  outcomes: ProposalOutcome[] = [];
  snapshotNeeded: SnapshotNeeded | null = null;

  constructor(private readonly peers: readonly ReplicaId[]) {
    assert(peers.length >= 1, 'a group needs at least one replica');
  }

  send(to: ReplicaId, message: PaxosMessage): void {
    (leavesEarly(message) ? this.messagesEarly : this.messages).push({ to, message });
  }

  /** To every replica, this one included: its own acceptor answers through the same path. */
  broadcast(message: PaxosMessage): void {
    for (const to of this.peers) this.send(to, message);
  }

  isEmpty(): boolean {
    return (
      this.hardState === null &&
      this.records.length === 0 &&
      this.committed.length === 0 &&
      this.messages.length === 0 &&
      this.messagesEarly.length === 0 &&
      this.outcomes.length === 0 &&
      this.snapshotNeeded === null
    );
  }

  take(): Ready {
    const ready: Ready = {
      hardState: this.hardState,
      records: this.records,
      committed: this.committed,
      messages: this.messages,
      messagesEarly: this.messagesEarly,
      outcomes: this.outcomes,
      mustSync: readyMustSync(this),
      snapshotNeeded: this.snapshotNeeded,
    };
    this.snapshotNeeded = null;
    this.hardState = null;
    this.records = [];
    this.committed = [];
    this.messages = [];
    this.messagesEarly = [];
    this.outcomes = [];
    return ready;
  }
}

import type { Ballot, ReplicaId } from './ballot.js';
import type { InstanceRecord, Value } from './types.js';

/** Phase 1a. Covers every instance from `instanceFrom` onward. */
export interface PrepareMessage {
  readonly type: 'prepare';
  readonly from: ReplicaId;
  readonly ballot: Ballot;
  readonly instanceFrom: number;
}

/**
 * Phase 1b. Carries the acceptor's records at or above `instanceFrom`, one bounded page at a
 * time; `instanceNext` asks the proposer to prepare again (same ballot) from there for the rest.
 */
export interface PromiseMessage {
  readonly type: 'promise';
  readonly from: ReplicaId;
  readonly ballot: Ballot;
  readonly instanceFrom: number;
  readonly records: readonly InstanceRecord[];
  readonly instanceNext: number | null;
  readonly committedInstance: number;
  /**
   * Instances up to this one are compacted away at this acceptor: it cannot report them. A
   * proposer preparing from at or below it must learn them (by snapshot) before it may lead.
   */
  readonly compactedInstance: number;
}

/** Phase 2a. */
export interface AcceptMessage {
  readonly type: 'accept';
  readonly from: ReplicaId;
  readonly ballot: Ballot;
  readonly instance: number;
  readonly value: Value;
}

/** Phase 2b, sent only after the accepted record is durable. */
export interface AcceptedMessage {
  readonly type: 'accepted';
  readonly from: ReplicaId;
  readonly ballot: Ballot;
  readonly instance: number;
}

/** A refusal of `ballot`, carrying the higher ballot the acceptor promised. */
export interface RejectMessage {
  readonly type: 'reject';
  readonly from: ReplicaId;
  readonly ballot: Ballot;
  readonly promised: Ballot;
}

/** The leader's commit notice and heartbeat: which instances are chosen, by value id. */
export interface CommitMessage {
  readonly type: 'commit';
  readonly from: ReplicaId;
  readonly ballot: Ballot;
  readonly chosen: ReadonlyArray<{ readonly instance: number; readonly valueId: string }>;
  readonly committedInstance: number;
  /**
   * The replica that publishes the plain live tail (docs/PROTOCOL.md): a follower the leader heard
   * from lately, so the leader's loop does not carry a NATS message per committed entry.
   */
  readonly tailPublisher: ReplicaId;
}

/** A request for chosen values from `instanceFrom` on. */
export interface FetchMessage {
  readonly type: 'fetch';
  readonly from: ReplicaId;
  readonly instanceFrom: number;
}

/** Chosen values, in instance order; only values the sender knows are chosen. */
export interface FetchedMessage {
  readonly type: 'fetched';
  readonly from: ReplicaId;
  readonly values: ReadonlyArray<{ readonly instance: number; readonly value: Value }>;
  readonly committedInstance: number;
  /** The sender no longer holds instances up to this one: a fetch below it needs a snapshot. */
  readonly compactedInstance: number;
}

/** A rebuilding replica asks where a peer stands (see Rebuild). */
export interface ProbeMessage {
  readonly type: 'probe';
  readonly from: ReplicaId;
  /**
   * Null while the rebuilding sender asks where the others stand. Once it knows its floor, it
   * keeps probing with it: a leader then fills the log up to above the floor with no-ops, so the
   * sender can vote again even when no client appends.
   */
  readonly floor: number | null;
}

/** Where the sender stands: what it committed, the highest instance it accepted, its promise. */
export interface ProbedMessage {
  readonly type: 'probed';
  readonly from: ReplicaId;
  readonly committedInstance: number;
  readonly acceptedInstanceMax: number;
  readonly promised: Ballot;
}

export type PaxosMessage =
  | ProbeMessage
  | ProbedMessage
  | PrepareMessage
  | PromiseMessage
  | AcceptMessage
  | AcceptedMessage
  | RejectMessage
  | CommitMessage
  | FetchMessage
  | FetchedMessage;

export interface Envelope<M = PaxosMessage> {
  readonly to: ReplicaId;
  readonly message: M;
}

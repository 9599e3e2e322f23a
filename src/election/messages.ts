import type { ReplicaId } from '../log/ballot.js';
import type { LeaseBallot } from './leaseBallot.js';

/** How up to date a replica's log is: committed instance first, then accepted instance. */
export interface LogPosition {
  readonly committedInstance: number;
  readonly acceptedInstanceMax: number;
}

export function logPositionCompare(a: LogPosition, b: LogPosition): number {
  if (a.committedInstance !== b.committedInstance) return a.committedInstance < b.committedInstance ? -1 : 1;
  if (a.acceptedInstanceMax !== b.acceptedInstanceMax) return a.acceptedInstanceMax < b.acceptedInstanceMax ? -1 : 1;
  return 0;
}

/** Phase 1a of a lease round, carrying the candidate's log position. */
export interface LeasePrepareMessage {
  readonly type: 'lease-prepare';
  readonly from: ReplicaId;
  readonly ballot: LeaseBallot;
  readonly position: LogPosition;
}

/** Phase 1b: the acceptor's unexpired lease, if any, with the ticks it has left on its clock. */
export interface LeasePromiseMessage {
  readonly type: 'lease-promise';
  readonly from: ReplicaId;
  readonly ballot: LeaseBallot;
  readonly lease: { readonly holder: ReplicaId; readonly ticksLeft: number } | null;
  /** Whether the answering replica itself believes it holds a lease now: an acceptor may still
   * report a lease of a replica whose round failed after some acceptors granted it. */
  readonly holding: boolean;
  /** The acceptor's own log position, so a candidate learns that a more up-to-date replica is alive. */
  readonly position: LogPosition;
}

/** Phase 2a: "grant the sender a lease at `ballot`"; each acceptor times it by its own clock. */
export interface LeaseProposeMessage {
  readonly type: 'lease-propose';
  readonly from: ReplicaId;
  readonly ballot: LeaseBallot;
}

/** Phase 2b. */
export interface LeaseAcceptedMessage {
  readonly type: 'lease-accepted';
  readonly from: ReplicaId;
  readonly ballot: LeaseBallot;
}

/** A refusal: a higher promise, or a candidate whose log is behind the acceptor's. */
export interface LeaseRejectMessage {
  readonly type: 'lease-reject';
  readonly from: ReplicaId;
  readonly ballot: LeaseBallot;
  readonly promised: LeaseBallot;
  readonly reason: 'ballot' | 'behind';
  readonly position: LogPosition;
}

/** A holder that stops cleanly gives its lease back, so a successor need not wait it out. */
export interface LeaseReleaseMessage {
  readonly type: 'lease-release';
  readonly from: ReplicaId;
  readonly ballot: LeaseBallot;
}

export type LeaseMessage =
  | LeasePrepareMessage
  | LeasePromiseMessage
  | LeaseProposeMessage
  | LeaseAcceptedMessage
  | LeaseRejectMessage
  | LeaseReleaseMessage;

export function isLeaseMessage(message: { readonly type: string }): message is LeaseMessage {
  return message.type.startsWith('lease-');
}

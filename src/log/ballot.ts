import { assert } from './assert.js';

/** A replica's numeric identity inside one log's Paxos group. Always >= 1. */
export type ReplicaId = number;

/**
 * A ballot orders proposers: by round, then by replica id, then by incarnation. Two replicas
 * never share a ballot because the replica id is part of it. One replica never reuses a round
 * across restarts, because the highest round it used is persisted before its prepare leaves.
 *
 * A replica whose disk was lost forgets that round. The rebuild rule already puts its new rounds
 * above every ballot its old life sent an accept with (docs/ARCHITECTURE.md, "A new or wiped
 * replica"); the incarnation makes the two lives' ballots differ by construction as well, so that
 * ballots stay unique even where that argument's premises would not hold. It is drawn at random
 * when a store is created (1 to 2^48 - 1) and kept for the store's life, snapshot installs
 * included. 0 is the zero ballot's, and that of ballots stored before incarnations (schema 3).
 */
export interface Ballot {
  readonly round: number;
  readonly replica: ReplicaId;
  readonly incarnation: number;
}

export const ballotZero: Ballot = Object.freeze({ round: 0, replica: 0, incarnation: 0 });

/** Incarnations are drawn below this: the wire refuses larger ones. */
export const incarnationsMax = 2 ** 48;

export function ballotCompare(a: Ballot, b: Ballot): number {
  if (a.round !== b.round) return a.round < b.round ? -1 : 1;
  if (a.replica !== b.replica) return a.replica < b.replica ? -1 : 1;
  if (a.incarnation !== b.incarnation) return a.incarnation < b.incarnation ? -1 : 1;
  return 0;
}

export function ballotEqual(a: Ballot, b: Ballot): boolean {
  return a.round === b.round && a.replica === b.replica && a.incarnation === b.incarnation;
}

/**
 * An incarnation a ballot may carry: a safe integer in [0, incarnationsMax). 0 is the zero ballot's
 * and that of ballots stored before incarnations; a store's own incarnation is never 0 (`own`).
 */
export function incarnationValid(incarnation: number, options: { own: boolean } = { own: false }): boolean {
  const least = options.own ? 1 : 0;
  return Number.isSafeInteger(incarnation) && incarnation >= least && incarnation < incarnationsMax;
}

export function ballotMax(a: Ballot, b: Ballot): Ballot {
  return ballotCompare(a, b) >= 0 ? a : b;
}

export function ballotMake(options: { round: number; replica: ReplicaId; incarnation: number }): Ballot {
  assert(Number.isSafeInteger(options.round) && options.round >= 1, `ballot round ${options.round}`);
  assert(Number.isSafeInteger(options.replica) && options.replica >= 1, `ballot replica ${options.replica}`);
  assert(incarnationValid(options.incarnation, { own: true }), `ballot incarnation ${options.incarnation}`);
  return { round: options.round, replica: options.replica, incarnation: options.incarnation };
}

/** round.replica, then .incarnation unless it is 0: a value id made from it is unique to one life. */
export function ballotText(b: Ballot): string {
  return b.incarnation === 0 ? `${b.round}.${b.replica}` : `${b.round}.${b.replica}.${b.incarnation}`;
}

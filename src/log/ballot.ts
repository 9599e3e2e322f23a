import { assert } from './assert.js';

/** A replica's numeric identity inside one log's Paxos group. Always >= 1. */
export type ReplicaId = number;

/**
 * A ballot orders proposers: first by round, then by replica id. Two proposers never share a
 * ballot because the replica id is part of it, and one proposer never reuses a round across
 * restarts because the highest round it used is persisted before its prepare leaves.
 */
export interface Ballot {
  readonly round: number;
  readonly replica: ReplicaId;
}

export const ballotZero: Ballot = Object.freeze({ round: 0, replica: 0 });

export function ballotCompare(a: Ballot, b: Ballot): number {
  if (a.round !== b.round) return a.round < b.round ? -1 : 1;
  if (a.replica !== b.replica) return a.replica < b.replica ? -1 : 1;
  return 0;
}

export function ballotEqual(a: Ballot, b: Ballot): boolean {
  return a.round === b.round && a.replica === b.replica;
}

export function ballotMax(a: Ballot, b: Ballot): Ballot {
  return ballotCompare(a, b) >= 0 ? a : b;
}

export function ballotMake(options: { round: number; replica: ReplicaId }): Ballot {
  assert(Number.isSafeInteger(options.round) && options.round >= 1, `ballot round ${options.round}`);
  assert(Number.isSafeInteger(options.replica) && options.replica >= 1, `ballot replica ${options.replica}`);
  return { round: options.round, replica: options.replica };
}

export function ballotText(b: Ballot): string {
  return `${b.round}.${b.replica}`;
}

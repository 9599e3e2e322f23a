import { assert } from '../log/assert.js';
import type { ReplicaId } from '../log/ballot.js';

/**
 * A PaxosLease ballot. Lease acceptors keep nothing on disk, so a proposer cannot derive its next
 * round from persisted state; instead the replica's restart counter (`epoch`, the only thing the
 * election persists) makes ballots of different lives distinct. A new store starts that counter
 * at a random base (SqliteLog's epochBasesMax), so a replica whose disk was lost does not count
 * its lives from the same place again. Ordered by round, then epoch, then replica.
 */
export interface LeaseBallot {
  readonly round: number;
  readonly epoch: number;
  readonly replica: ReplicaId;
}

export const leaseBallotZero: LeaseBallot = Object.freeze({ round: 0, epoch: 0, replica: 0 });

export function leaseBallotCompare(a: LeaseBallot, b: LeaseBallot): number {
  if (a.round !== b.round) return a.round < b.round ? -1 : 1;
  if (a.epoch !== b.epoch) return a.epoch < b.epoch ? -1 : 1;
  if (a.replica !== b.replica) return a.replica < b.replica ? -1 : 1;
  return 0;
}

export function leaseBallotEqual(a: LeaseBallot, b: LeaseBallot): boolean {
  return leaseBallotCompare(a, b) === 0;
}

export function leaseBallotMake(options: { round: number; epoch: number; replica: ReplicaId }): LeaseBallot {
  assert(Number.isSafeInteger(options.round) && options.round >= 1, `lease round ${options.round}`);
  assert(Number.isSafeInteger(options.epoch) && options.epoch >= 1, `lease epoch ${options.epoch}`);
  assert(Number.isSafeInteger(options.replica) && options.replica >= 1, `lease replica ${options.replica}`);
  return { round: options.round, epoch: options.epoch, replica: options.replica };
}

export function leaseBallotText(b: LeaseBallot): string {
  return `${b.round}.${b.epoch}.${b.replica}`;
}

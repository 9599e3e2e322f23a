import { assert } from './assert.js';
import { type Ballot, type ReplicaId, ballotCompare, ballotZero } from './ballot.js';

export interface PeerPosition {
  readonly committedInstance: number;
  readonly acceptedInstanceMax: number;
  readonly promised: Ballot;
}

/**
 * A replica that starts from an empty store may have promised or accepted before its disk was
 * lost, and it no longer knows what. Until it may vote again it is a non-voting learner: it
 * answers no prepare and no accept, does not campaign, and learns by commit notices and fetches.
 * The rule is Paxos Made Live's (section 5.1): it votes again once it has seen a complete
 * instance that began after its rebuilding began. Made concrete here:
 *
 * 1. It asks its peers where they stand (probe) until a majority of the others has answered. If
 *    all of them are empty (nothing committed, accepted or promised), no value can have been
 *    chosen and no quorum can hold a promise of this replica's: the cluster is new, and it votes.
 * 2. Otherwise `floor` = the highest instance those peers accepted + acceptAheadInstancesMax: no
 *    instance this replica could have accepted before the loss lies above it (an acceptor takes
 *    nothing beyond its committed instance + acceptAhead, and every chosen instance was
 *    accepted by one of those peers).
 * 3. It votes again once it has committed an instance above the floor and seen the commit notice
 *    of a leader that chose an instance above the floor; it first promises that leader's ballot.
 *    That instance was chosen by a quorum without this replica, after the rebuild began, so each
 *    quorum that ever counted this replica's lost promise shares a replica that promised it and
 *    then accepted the leader's ballot: the ballot is at least every lost promise, and every
 *    value this replica helped choose was learned on the way.
 */
export class Rebuild {
  private readonly positions = new Map<ReplicaId, PeerPosition>();
  private floorValue: number | null = null;
  private ballotSeen: Ballot | null = null;

  constructor(
    private readonly options: { readonly id: ReplicaId; readonly peers: readonly ReplicaId[]; readonly acceptAheadInstancesMax: number },
  ) {}

  /** Peers whose answers decide (a majority of the others: every quorum shares one with them). */
  get answersNeeded(): number {
    const n = this.options.peers.length;
    return n - Math.floor(n / 2);
  }

  get floor(): number | null {
    return this.floorValue;
  }

  get answers(): number {
    return this.positions.size;
  }

  /** A peer's answer to a probe. Returns 'new-cluster' when the answers show nothing was ever done. */
  observe(from: ReplicaId, position: PeerPosition): 'new-cluster' | 'waiting' | 'floor' {
    assert(from !== this.options.id, 'a replica probes the others');
    if (this.floorValue !== null) return 'floor';
    this.positions.set(from, position);
    if (this.positions.size < this.answersNeeded) return 'waiting';
    const all = [...this.positions.values()];
    const empty = all.every((p) => p.committedInstance === 0 && p.acceptedInstanceMax === 0 && ballotCompare(p.promised, ballotZero) === 0);
    if (empty) return 'new-cluster';
    this.floorValue = Math.max(...all.map((p) => p.acceptedInstanceMax)) + this.options.acceptAheadInstancesMax;
    return 'floor';
  }

  /** A leader's commit notice: remember its ballot when it chose an instance above the floor. */
  noticed(ballot: Ballot, chosenInstances: readonly number[]): void {
    if (this.floorValue === null) return;
    if (!chosenInstances.some((instance) => instance > this.floorValue!)) return;
    if (this.ballotSeen === null || ballotCompare(ballot, this.ballotSeen) > 0) this.ballotSeen = ballot;
  }

  /** The ballot to promise before voting again, once this replica may; null until then. */
  voteBallot(committedInstance: number): Ballot | null {
    if (this.floorValue === null || committedInstance <= this.floorValue) return null;
    return this.ballotSeen;
  }
}

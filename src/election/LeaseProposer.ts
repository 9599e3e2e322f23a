import { assert } from '../log/assert.js';
import type { ReplicaId } from '../log/ballot.js';
import type { Random } from '../log/random.js';
import { type LeaseBallot, leaseBallotCompare, leaseBallotEqual, leaseBallotMake } from './leaseBallot.js';
import type { LeaseTiming } from './limits.js';
import {
  type LeaseAcceptedMessage,
  type LeaseMessage,
  type LeasePromiseMessage,
  type LeaseRejectMessage,
  type LeaseReleaseMessage,
  type LogPosition,
  logPositionCompare,
} from './messages.js';

export interface LeaseProposerOptions {
  readonly id: ReplicaId;
  readonly epoch: number;
  readonly peers: readonly ReplicaId[];
  readonly timing: LeaseTiming;
  readonly random: Random;
  readonly position: () => LogPosition;
  readonly mayCandidate: () => boolean;
  /** The replica this replica's own acceptor granted a lease that still runs, if any. */
  readonly holderGranted: () => ReplicaId | null;
  readonly broadcast: (message: LeaseMessage) => void;
}

export interface LeaseRound {
  readonly ballot: LeaseBallot;
  readonly startedTick: number;
  /** The lease this round would grant ends here: the timer starts before the prepare leaves. */
  readonly expiresTick: number;
  phase: 'prepare' | 'propose';
  /** A renewal by the holder: exempt from deferring to a more up-to-date replica. */
  readonly renewal: boolean;
  readonly answered: Set<ReplicaId>;
  readonly free: Set<ReplicaId>;
  readonly accepted: Set<ReplicaId>;
  readonly refused: Set<ReplicaId>;
  /** Leases the acceptors reported, by holder, with the ticks they had left. */
  readonly leases: Map<ReplicaId, number>;
  /** Replicas that answered that they hold no lease themselves. */
  readonly notHolding: Set<ReplicaId>;
  /** Some replica answered with a log ahead of this candidate's. */
  aheadSeen: boolean;
}

export type LeaseEvent = 'acquired' | 'renewed' | 'lost' | 'released';

/**
 * The PaxosLease proposer. One round timer bounds each attempt, Phase 1 and Phase 2 together: any
 * lost message ends the round by timeout, and a new round with a higher ballot follows after a
 * random back-off. Renewal is a fresh round, Phase 1 included, started well before expiry.
 */
export class LeaseProposer {
  protected tickNow = 0;
  private roundSeenMax = 0;
  protected round: LeaseRound | null = null;
  protected holding: { ballot: LeaseBallot; expiresTick: number } | null = null;
  protected attemptTick: number;
  private known: { holder: ReplicaId; untilTick: number } | null = null;
  /** The highest ballot this replica asked acceptors to grant: a release must cover it. */
  private proposedMax: LeaseBallot | null = null;
  /** Replicas that released their lease to shut down: a candidate does not wait for their answer. */
  private readonly departed = new Set<ReplicaId>();
  readonly events: LeaseEvent[] = [];

  constructor(protected readonly options: LeaseProposerOptions) {
    this.attemptTick = this.firstAttemptTick();
  }

  /** A fresh replica tries soon, at a random moment, so cold starts do not collide. */
  protected firstAttemptTick(): number {
    return this.options.random.int(1, this.options.timing.limits.backoffTicksMax);
  }

  protected backoffTicks(reason: 'ballot' | 'behind' | 'held' | 'timeout' | 'released'): number {
    const max = this.options.timing.limits.backoffTicksMax;
    if (reason === 'behind') return this.options.random.int(max, 3 * max);
    if (reason === 'released') return this.options.random.int(1, Math.max(1, Math.floor(max / 4)));
    return this.options.random.int(1, max);
  }

  private get quorum(): number {
    return Math.floor(this.options.peers.length / 2) + 1;
  }

  /** True while this replica believes it holds the lease. */
  get isHolder(): boolean {
    return this.holding !== null;
  }

  get ticksLeft(): number {
    return this.holding === null ? 0 : this.holding.expiresTick - this.tickNow;
  }

  /** The holder this replica last heard of (itself when holding), while its lease should last. */
  get holderKnown(): ReplicaId | null {
    if (this.holding !== null) return this.options.id;
    if (this.known === null || this.tickNow >= this.known.untilTick) return null;
    return this.known.holder;
  }

  tick(tick: number): void {
    this.tickNow = tick;
    if (this.holding !== null && tick >= this.holding.expiresTick) {
      this.holding = null;
      this.events.push('lost');
    }
    if (this.round !== null && tick - this.round.startedTick >= this.options.timing.limits.roundTicks) {
      this.failRound('timeout');
    }
    if (this.round !== null) this.decide(this.round);
    if (this.round !== null || tick < this.attemptTick) return;
    if (this.holding !== null) {
      if (this.holding.expiresTick - tick <= this.options.timing.renewTicksLeft) this.renew();
    } else if (this.holderKnown === null && !this.grantedToOther() && this.options.mayCandidate()) {
      this.startRound();
    }
  }

  /**
   * This replica's own acceptor granted another replica a lease that still runs: a round now could
   * not win (that lease is on a majority, or its holder's renewal is under way), and its prepare
   * would only raise the acceptors' promise above the ballot of that renewal, which then fails.
   * Under load, when a renewal takes several hundred milliseconds, such a probe made a busy but
   * healthy holder lapse. The candidate waits for that lease to end (or to be released) instead.
   */
  private grantedToOther(): boolean {
    const holder = this.options.holderGranted();
    return holder !== null && holder !== this.options.id;
  }

  /** A renewal: a fresh round with a new ballot, Phase 1 first. */
  protected renew(): void {
    this.startRound();
  }

  protected startRound(): void {
    const round = this.roundSeenMax + 1;
    this.roundSeenMax = round;
    const ballot = leaseBallotMake({ round, epoch: this.options.epoch, replica: this.options.id });
    this.round = this.roundCreate(ballot);
    this.options.broadcast({ type: 'lease-prepare', from: this.options.id, ballot, position: this.options.position() });
  }

  protected roundCreate(ballot: LeaseBallot): LeaseRound {
    return {
      ballot,
      startedTick: this.tickNow,
      expiresTick: this.tickNow + this.options.timing.holderTicks,
      phase: 'prepare',
      renewal: this.holding !== null,
      answered: new Set(),
      free: new Set(),
      accepted: new Set(),
      refused: new Set(),
      leases: new Map(),
      notHolding: new Set(),
      aheadSeen: false,
    };
  }

  /** Phase 2 for the current round (also what a renewal that skipped Phase 1 would do). */
  protected propose(round: LeaseRound): void {
    round.phase = 'propose';
    if (this.proposedMax === null || leaseBallotCompare(round.ballot, this.proposedMax) > 0) this.proposedMax = round.ballot;
    this.options.broadcast({ type: 'lease-propose', from: this.options.id, ballot: round.ballot });
  }

  onPromise(message: LeasePromiseMessage): void {
    const round = this.round;
    if (round === null || round.phase !== 'prepare' || !leaseBallotEqual(message.ballot, round.ballot)) return;
    this.answered(round, message.from, message.position);
    if (!message.holding) round.notHolding.add(message.from);
    if (message.lease === null || message.lease.holder === this.options.id) {
      round.free.add(message.from);
    } else {
      const ticksLeft = Math.max(round.leases.get(message.lease.holder) ?? 0, message.lease.ticksLeft);
      round.leases.set(message.lease.holder, ticksLeft);
    }
    this.decide(round);
  }

  private answered(round: LeaseRound, from: ReplicaId, position: LogPosition): void {
    round.answered.add(from);
    this.departed.delete(from);
    if (logPositionCompare(position, this.options.position()) > 0) round.aheadSeen = true;
  }

  /**
   * Phase 1 outcome: propose once a majority answered with no lease (or this replica's own) and,
   * for a candidate, once every replica answered or the gather time ran out with no replica ahead.
   */
  private decide(round: LeaseRound): void {
    if (round.phase !== 'prepare') return;
    if (round.aheadSeen && !round.renewal) {
      this.failRound('behind');
      return;
    }
    if (this.options.peers.length - round.answered.size + round.free.size < this.quorum) {
      this.failRound('held');
      return;
    }
    if (round.free.size < this.quorum) return;
    const gathered = this.options.peers.every((peer) => round.answered.has(peer) || this.departed.has(peer));
    const waited = this.tickNow - round.startedTick >= this.options.timing.limits.gatherTicks;
    if (round.renewal || gathered || waited) this.propose(round);
  }

  onAccepted(message: LeaseAcceptedMessage): void {
    const round = this.round;
    if (round === null || round.phase !== 'propose' || !leaseBallotEqual(message.ballot, round.ballot)) return;
    round.accepted.add(message.from);
    if (round.accepted.size < this.quorum) return;
    this.round = null;
    if (round.expiresTick <= this.tickNow) return;
    this.events.push(this.holding === null ? 'acquired' : 'renewed');
    this.holding = { ballot: round.ballot, expiresTick: round.expiresTick };
    this.known = null;
  }

  onReject(message: LeaseRejectMessage): void {
    this.observe(message.promised.round);
    const round = this.round;
    if (round === null || !leaseBallotEqual(message.ballot, round.ballot)) return;
    if (round.phase === 'prepare') {
      this.failRound(message.reason);
      return;
    }
    // In Phase 2 a minority may refuse while a majority grants: fail only when no majority can.
    round.refused.add(message.from);
    const possible = this.options.peers.filter((peer) => round.accepted.has(peer) || !(round.refused.has(peer) || this.departed.has(peer)));
    if (possible.length < this.quorum) this.failRound(message.reason);
  }

  /** A holder gave its lease back: forget it and try soon, after a short random back-off. */
  onRelease(message: LeaseReleaseMessage): void {
    if (this.known?.holder === message.from) this.known = null;
    if (message.from !== this.options.id) this.departed.add(message.from);
    if (this.holding !== null || this.round !== null) return;
    this.attemptTick = Math.min(this.attemptTick, this.tickNow + this.backoffTicks('released'));
  }

  observe(round: number): void {
    if (round > this.roundSeenMax) this.roundSeenMax = round;
  }

  /** Gives the lease back (a clean shutdown): acceptors drop it and a successor need not wait. */
  release(): void {
    const holding = this.holding;
    this.round = null;
    if (holding === null) return;
    this.holding = null;
    this.events.push('released');
    // A renewal may have been granted by some acceptors after `holding` was set: release it too.
    const ballot = this.proposedMax !== null && leaseBallotCompare(this.proposedMax, holding.ballot) > 0 ? this.proposedMax : holding.ballot;
    this.options.broadcast({ type: 'lease-release', from: this.options.id, ballot });
  }

  private failRound(reason: 'ballot' | 'behind' | 'held' | 'timeout'): void {
    const round = this.round;
    assert(round !== null, 'failing a round that is not running');
    this.round = null;
    this.learnHolder(round);
    const waitUntil = reason === 'held' && this.known !== null ? this.known.untilTick : this.tickNow;
    this.attemptTick = waitUntil + this.backoffTicks(reason);
  }

  /**
   * Remembers a reported lease as the holder to wait for, unless its holder released it or said it
   * holds nothing: such a lease is left over from a failed round, and only its owner can reclaim it
   * before it expires, so waiting for it would only delay everyone.
   */
  private learnHolder(round: LeaseRound): void {
    for (const [holder, ticksLeft] of round.leases) {
      if (this.departed.has(holder) || round.notHolding.has(holder)) continue;
      this.known = { holder, untilTick: this.tickNow + ticksLeft };
    }
  }
}

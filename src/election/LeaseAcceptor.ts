import type { ReplicaId } from '../log/ballot.js';
import { type LeaseBallot, leaseBallotCompare, leaseBallotZero } from './leaseBallot.js';
import type { LeaseTiming } from './limits.js';
import {
  type LeaseMessage,
  type LeasePrepareMessage,
  type LeaseProposeMessage,
  type LeaseReleaseMessage,
  type LogPosition,
  logPositionCompare,
} from './messages.js';

export interface LeaseAcceptorOptions {
  readonly id: ReplicaId;
  readonly timing: LeaseTiming;
  /** This replica's own log position, to refuse candidates whose log is behind it. */
  readonly position: () => LogPosition;
  /** Whether this replica's own candidate holds a lease now. */
  readonly holding: () => boolean;
  /**
   * Whether this replica may stand itself (not while it rebuilds a lost disk). One that may not
   * reports the lowest log position: it never refuses a candidate for being behind it, nor makes
   * one back off as ahead of it. It could not take the lease instead, and a replica that caught
   * up by snapshot beyond the voters would otherwise stall every election among them.
   */
  readonly mayCandidate: () => boolean;
  readonly send: (to: ReplicaId, message: LeaseMessage) => void;
}

/**
 * The PaxosLease acceptor. Its state lives in memory only: after a restart it answers nothing for
 * `restartWaitTicks`, by which time every lease it granted in its earlier life has expired.
 */
export class LeaseAcceptor {
  protected promised: LeaseBallot = leaseBallotZero;
  /**
   * The highest ballot each replica released (a bounded map: one entry per peer). A release can
   * overtake the proposal it covers; that proposal, arriving late, is not granted.
   */
  private readonly releasedLast = new Map<ReplicaId, LeaseBallot>();
  protected lease: { ballot: LeaseBallot; holder: ReplicaId; expiresTick: number } | null = null;
  protected silentUntilTick: number;
  private tickNow = 0;

  constructor(protected readonly options: LeaseAcceptorOptions) {
    this.silentUntilTick = options.timing.restartWaitTicks;
  }

  /** The holder of the lease this acceptor granted, while it lasts. */
  get holder(): ReplicaId | null {
    return this.lease?.holder ?? null;
  }

  get silent(): boolean {
    return this.tickNow < this.silentUntilTick;
  }

  tick(tick: number): void {
    this.tickNow = tick;
    if (this.lease !== null && tick >= this.lease.expiresTick) this.lease = null;
  }

  onPrepare(message: LeasePrepareMessage): void {
    if (this.silent) return;
    if (leaseBallotCompare(message.ballot, this.promised) < 0) {
      this.reject(message.from, message.ballot, 'ballot');
      return;
    }
    const renewal = this.lease?.holder === message.from;
    if (!renewal && logPositionCompare(message.position, this.position()) < 0) {
      this.reject(message.from, message.ballot, 'behind');
      return;
    }
    this.promised = message.ballot;
    const lease = this.lease === null ? null : { holder: this.lease.holder, ticksLeft: this.lease.expiresTick - this.tickNow };
    this.options.send(message.from, { type: 'lease-promise', from: this.options.id, ballot: message.ballot, lease, holding: this.options.holding(), position: this.position() });
  }

  onPropose(message: LeaseProposeMessage): void {
    if (this.silent) return;
    const released = this.releasedLast.get(message.from);
    if (released !== undefined && leaseBallotCompare(message.ballot, released) <= 0) {
      return; // the release overtook this proposal: granting it would hold a lease nobody holds
    }
    if (leaseBallotCompare(message.ballot, this.promised) < 0) {
      this.reject(message.from, message.ballot, 'ballot');
      return;
    }
    this.promised = message.ballot;
    this.lease = { ballot: message.ballot, holder: message.from, expiresTick: this.tickNow + this.options.timing.limits.leaseTicks };
    this.options.send(message.from, { type: 'lease-accepted', from: this.options.id, ballot: message.ballot });
  }

  onRelease(message: LeaseReleaseMessage): void {
    const released = this.releasedLast.get(message.from);
    if (released === undefined || leaseBallotCompare(message.ballot, released) > 0) this.releasedLast.set(message.from, message.ballot);
    if (this.lease === null || this.lease.holder !== message.from) return;
    if (leaseBallotCompare(this.lease.ballot, message.ballot) > 0) return;
    this.lease = null;
  }

  private reject(to: ReplicaId, ballot: LeaseBallot, reason: 'ballot' | 'behind'): void {
    this.options.send(to, { type: 'lease-reject', from: this.options.id, ballot, promised: this.promised, reason, position: this.position() });
  }

  /** The log position this acceptor shows candidates (see mayCandidate). */
  private position(): LogPosition {
    return this.options.mayCandidate() ? this.options.position() : { committedInstance: 0, acceptedInstanceMax: 0 };
  }
}

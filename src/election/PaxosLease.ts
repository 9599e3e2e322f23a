import { unreachable } from '../log/assert.js';
import type { ReplicaId } from '../log/ballot.js';
import type { Envelope } from '../log/messages.js';
import type { Random } from '../log/random.js';
import { LeaseAcceptor, type LeaseAcceptorOptions } from './LeaseAcceptor.js';
import { type LeaseEvent, LeaseProposer, type LeaseProposerOptions } from './LeaseProposer.js';
import { type LeaseLimits, leaseLimitsDefault, type LeaseTiming, leaseTiming } from './limits.js';
import type { LeaseMessage, LogPosition } from './messages.js';

export interface PaxosLeaseOptions {
  readonly id: ReplicaId;
  readonly peers: readonly ReplicaId[];
  /** The replica's restart counter: the only state the election persists. */
  readonly epoch: number;
  readonly random: Random;
  readonly position: () => LogPosition;
  readonly limits?: Partial<LeaseLimits>;
  /** Whether this replica may stand for the lease now (not while it rebuilds); always by default. */
  readonly mayCandidate?: () => boolean;
}

export interface PaxosLeaseStatus {
  readonly isHolder: boolean;
  readonly holderKnown: ReplicaId | null;
  readonly ticksLeft: number;
  readonly acceptorSilent: boolean;
}

/**
 * PaxosLease (Trencseni, Gazsó, Reinhardt 2008) as a pure state machine: messages and ticks in,
 * messages and lease events out. Every replica is both a lease acceptor and a candidate.
 */
export class PaxosLease {
  readonly timing: LeaseTiming;
  protected readonly acceptor: LeaseAcceptor;
  protected readonly proposer: LeaseProposer;
  private outbox: Array<Envelope<LeaseMessage>> = [];
  private tickNow = 0;

  constructor(options: PaxosLeaseOptions) {
    this.timing = leaseTiming({ ...leaseLimitsDefault, ...options.limits });
    const send = (to: ReplicaId, message: LeaseMessage) => this.outbox.push({ to, message });
    const mayCandidate = options.mayCandidate ?? (() => true);
    this.acceptor = this.createAcceptor({ id: options.id, timing: this.timing, position: options.position, holding: () => this.proposer.isHolder, mayCandidate, send });
    this.proposer = this.createProposer({
      id: options.id,
      epoch: options.epoch,
      peers: options.peers,
      timing: this.timing,
      random: options.random,
      position: options.position,
      mayCandidate,
      holderGranted: () => this.acceptor.holder,
      broadcast: (message) => {
        for (const to of options.peers) send(to, message);
      },
    });
  }

  /** Overridden only by the test canaries. */
  protected createAcceptor(options: LeaseAcceptorOptions): LeaseAcceptor {
    return new LeaseAcceptor(options);
  }

  protected createProposer(options: LeaseProposerOptions): LeaseProposer {
    return new LeaseProposer(options);
  }

  get isHolder(): boolean {
    return this.proposer.isHolder;
  }

  /** The holder as far as this replica knows: itself, the one its acceptor granted, or one it heard of. */
  holderKnown(): ReplicaId | null {
    return this.proposer.holderKnown ?? this.acceptor.holder;
  }

  status(): PaxosLeaseStatus {
    return {
      isHolder: this.proposer.isHolder,
      holderKnown: this.holderKnown(),
      ticksLeft: this.proposer.ticksLeft,
      acceptorSilent: this.acceptor.silent,
    };
  }

  tick(): void {
    this.tickNow++;
    this.acceptor.tick(this.tickNow);
    this.proposer.tick(this.tickNow);
  }

  step(message: LeaseMessage): void {
    switch (message.type) {
      case 'lease-prepare':
        this.proposer.observe(message.ballot.round);
        return this.acceptor.onPrepare(message);
      case 'lease-propose':
        this.proposer.observe(message.ballot.round);
        return this.acceptor.onPropose(message);
      case 'lease-release':
        this.acceptor.onRelease(message);
        return this.proposer.onRelease(message);
      case 'lease-promise':
        return this.proposer.onPromise(message);
      case 'lease-accepted':
        return this.proposer.onAccepted(message);
      case 'lease-reject':
        return this.proposer.onReject(message);
      default:
        unreachable(message);
    }
  }

  release(): void {
    this.proposer.release();
  }

  /** Messages to send (no persistence needed) and the lease events since the last call. */
  take(): { messages: Array<Envelope<LeaseMessage>>; events: LeaseEvent[] } {
    const messages = this.outbox;
    this.outbox = [];
    return { messages, events: this.proposer.events.splice(0) };
  }
}

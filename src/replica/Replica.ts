import { type LeaseEvent } from '../election/LeaseProposer.js';
import type { LeaseLimits } from '../election/limits.js';
import { isLeaseMessage, type LeaseMessage } from '../election/messages.js';
import { PaxosLease, type PaxosLeaseStatus } from '../election/PaxosLease.js';
import type { Ballot, ReplicaId } from '../log/ballot.js';
import type { Ready } from '../log/Effects.js';
import type { PaxosLimits } from '../log/limits.js';
import type { Envelope, PaxosMessage } from '../log/messages.js';
import { MultiPaxos, type MultiPaxosOptions, type MultiPaxosStatus } from '../log/MultiPaxos.js';
import type { Random } from '../log/random.js';
import type { LogStoreReader } from '../log/storage.js';
import type { Entry, HardState, LearnerState, ProposalId } from '../log/types.js';

export type ReplicaMessage = PaxosMessage | LeaseMessage;

export interface ReplicaReady extends Ready {
  /**
   * PaxosLease keeps nothing on disk, so its messages need no write: a driver may send them at
   * once, before the Ready's writes, which keeps lease rounds fast while the disk is busy.
   */
  readonly leaseMessages: ReadonlyArray<Envelope<LeaseMessage>>;
  readonly leaseEvents: readonly LeaseEvent[];
}

export interface ReplicaOptions {
  readonly id: ReplicaId;
  readonly peers: readonly ReplicaId[];
  /** The restart counter, persisted and incremented by the driver before each start. */
  readonly epoch: number;
  readonly hardState: HardState;
  readonly learnerState: LearnerState;
  readonly store: LogStoreReader;
  readonly random: Random;
  readonly paxosLimits?: Partial<PaxosLimits>;
  readonly leaseLimits?: Partial<LeaseLimits>;
  /** false: no election, the core's simple silence rule picks proposers (for the Question 1 runs). */
  readonly election?: boolean;
  /** Test-only: build a deliberately broken core or election. */
  readonly makePaxos?: (options: MultiPaxosOptions) => MultiPaxos;
  readonly makeLease?: (options: ConstructorParameters<typeof PaxosLease>[0]) => PaxosLease;
}

export interface ReplicaStatus extends MultiPaxosStatus {
  readonly lease: PaxosLeaseStatus | null;
}

/**
 * A whole replica as one pure state machine: the Multi-Paxos core led by PaxosLease. The lease
 * holder is the distinguished proposer: it runs Phase 1 once when it wins the lease, and steps down
 * when the lease ends. Followers answer proposals with `not-leader` and the holder they know.
 */
export class Replica {
  readonly id: ReplicaId;
  private paxosNow: MultiPaxos;
  private readonly paxosOptions: MultiPaxosOptions;
  private readonly makePaxos: (options: MultiPaxosOptions) => MultiPaxos;
  readonly lease: PaxosLease | null;
  private readonly leaseEvents: LeaseEvent[] = [];

  constructor(options: ReplicaOptions) {
    this.id = options.id;
    const election = options.election ?? true;
    const paxosOptions: MultiPaxosOptions = {
      id: options.id,
      peers: options.peers,
      hardState: options.hardState,
      learnerState: options.learnerState,
      store: options.store,
      random: options.random,
      limits: options.paxosLimits ?? {},
      leadership: election ? 'external' : 'silence',
    };
    this.paxosOptions = paxosOptions;
    this.makePaxos = options.makePaxos ?? ((o) => new MultiPaxos(o));
    this.paxosNow = this.makePaxos(paxosOptions);
    if (!election) {
      this.lease = null;
      return;
    }
    const leaseOptions = {
      id: options.id,
      peers: options.peers,
      epoch: options.epoch,
      random: options.random,
      position: () => ({ committedInstance: this.paxos.committedInstance, acceptedInstanceMax: this.paxos.acceptedInstanceMax }),
      limits: options.leaseLimits ?? {},
      mayCandidate: () => this.paxos.isVoter,
    };
    this.lease = (options.makeLease ?? ((o) => new PaxosLease(o)))(leaseOptions);
  }

  get paxos(): MultiPaxos {
    return this.paxosNow;
  }

  /**
   * After a snapshot install, in place: a new Multi-Paxos core on the installed store, while the
   * election goes on (the process did not restart, so its lease state is still true). Call it
   * between Readys, with the last one advanced.
   */
  restartPaxos(options: Pick<MultiPaxosOptions, 'hardState' | 'learnerState' | 'store'>): void {
    this.paxosNow = this.makePaxos({ ...this.paxosOptions, ...options });
    this.react();
  }

  get promised(): Ballot {
    return this.paxos.promised;
  }

  get isLeaseHolder(): boolean {
    return this.lease?.isHolder ?? false;
  }

  /** Publishes the plain live tail (see MultiPaxos.isTailPublisher). */
  get isTailPublisher(): boolean {
    return this.paxos.isTailPublisher;
  }

  /** Serving: holds the lease (when there is an election) and has finished Phase 1. */
  get isServing(): boolean {
    return (this.lease === null || this.lease.isHolder) && this.paxos.phase === 'leading';
  }

  status(): ReplicaStatus {
    return { ...this.paxos.status(), lease: this.lease?.status() ?? null };
  }

  propose(entries: readonly Entry[], options: { timestampMs: number }): ProposalId {
    return this.paxos.propose(entries, options);
  }

  step(message: ReplicaMessage): void {
    if (isLeaseMessage(message)) {
      this.lease?.step(message);
      this.react();
    } else {
      this.paxos.step(message);
    }
  }

  tick(): void {
    this.paxos.tick();
    this.lease?.tick();
    this.react();
  }

  /** A clean shutdown: give the lease back and stop proposing. */
  release(): void {
    this.lease?.release();
    this.react();
  }

  /** Keeps Multi-Paxos leadership in line with the lease. */
  private react(): void {
    const lease = this.lease;
    if (lease === null) return;
    const { messages, events } = lease.take();
    this.pendingLease.push(...messages);
    this.leaseEvents.push(...events);
    if (events.includes('lost') || events.includes('released')) this.paxos.stepDown();
    if (lease.isHolder && this.paxos.phase === 'follower') this.paxos.campaign();
    this.paxos.setLeaderExternal(lease.holderKnown());
  }

  private readonly pendingLease: Array<Envelope<LeaseMessage>> = [];

  hasReady(): boolean {
    return this.pendingLease.length > 0 || this.leaseEvents.length > 0 || this.paxos.hasReady();
  }

  ready(): ReplicaReady {
    const ready = this.paxos.ready();
    return { ...ready, leaseMessages: this.pendingLease.splice(0), leaseEvents: this.leaseEvents.splice(0) };
  }

  advance(): void {
    this.paxos.advance();
  }
}

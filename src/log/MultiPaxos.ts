import { Acceptor, type AcceptorOptions } from './Acceptor.js';
import { assert, unreachable } from './assert.js';
import { type Ballot, type ReplicaId, ballotCompare, incarnationValid } from './ballot.js';
import { Effects, type Ready } from './Effects.js';
import { Learner } from './Learner.js';
import { type PaxosLimits, paxosLimitsCheck, paxosLimitsDefault } from './limits.js';
import type { AcceptMessage, CommitMessage, FetchedMessage, PaxosMessage, ProbedMessage } from './messages.js';
import { Rebuild } from './Rebuild.js';
import { Proposer, type ProposerHost, type ProposerPhase } from './Proposer.js';
import type { Random } from './random.js';
import type { LogStoreReader } from './storage.js';
import {
  type CommittedBatch,
  type Entry,
  type HardState,
  type LearnerState,
  type ProposalFailure,
  type ProposalId,
  type Value,
  entryBytes,
  valueBytes,
} from './types.js';

export interface MultiPaxosOptions {
  readonly id: ReplicaId;
  /** Every replica of the group, this one included. */
  readonly peers: readonly ReplicaId[];
  readonly hardState: HardState;
  readonly learnerState: LearnerState;
  readonly store: LogStoreReader;
  readonly random: Random;
  readonly limits?: Partial<PaxosLimits>;
  /**
   * 'silence': a follower that hears no leader for a randomised time campaigns by itself (the
   * simple rule of a group without an election). 'external': only campaign() starts Phase 1, as
   * the PaxosLease election does.
   */
  readonly leadership?: 'silence' | 'external';
}

export interface MultiPaxosStatus {
  readonly id: ReplicaId;
  readonly phase: ProposerPhase;
  readonly ballot: Ballot | null;
  readonly promised: Ballot;
  readonly leaderHint: ReplicaId | null;
  /** Learned and released, in order. */
  readonly committedInstance: number;
  /** The highest instance the acceptor accepted or persisted. */
  readonly acceptedInstanceMax: number;
  readonly offsetNext: number;
  readonly inflightInstances: number;
  readonly queuedProposals: number;
  /** The highest instance this replica knows is chosen (its own, or announced by a peer). */
  readonly chosenKnownMax: number;
  /** The peer this replica last asked for chosen values (log transfer), or null. */
  readonly fetchPeer: ReplicaId | null;
  /** While rebuilding (a non-voting learner, see Rebuild): its floor (null until known) and answers. */
  readonly rebuilding: { readonly floor: number | null; readonly answers: number } | null;
}

/**
 * One Multi-Paxos replica as a pure state machine, in the style of etcd-raft's RawNode. Inputs:
 * step(), tick(), propose(), campaign(). Output: ready(), which the driver persists, then sends,
 * applies and answers, and then calls advance(). No I/O, no clock and no global randomness here.
 */
export class MultiPaxos {
  readonly id: ReplicaId;
  readonly limits: PaxosLimits;
  protected readonly effects: Effects;
  protected readonly acceptor: Acceptor;
  protected readonly learner: Learner;
  protected readonly proposer: Proposer;
  private roundMax: number;
  private readonly incarnation: number;
  private tickNow = 0;
  private proposalIdNext = 1;
  /** Proposals waiting for their instance to be learned. A leader that lost and regained its
   * leadership may have proposed two values for one instance, in different ballots. */
  private readonly pending = new Map<number, Array<{ proposalId: ProposalId; valueId: string }>>();
  private leaderId: ReplicaId | null = null;
  /** With external leadership: the leader the election knows of. */
  private leaderExternal: ReplicaId | null = null;
  private leaderContactTick = Number.NEGATIVE_INFINITY;
  private campaignAtTick: number;
  private fetchSentTick = Number.NEGATIVE_INFINITY;
  /** The peer the last fetch went to while it is unanswered: a retry goes to the next peer. */
  private fetchUnanswered: ReplicaId | null = null;
  private fetchPeerLast: ReplicaId | null = null;
  /** Non-null while this replica rebuilds from an empty store and may not vote. */
  private rebuild: Rebuild | null;
  private probeSentTick = Number.NEGATIVE_INFINITY;
  /** The highest instance peers announced as chosen or committed. */
  private announcedMax = 0;
  /** The tail publisher the newest commit notice named, with that notice's ballot. */
  private tailNamed: { readonly replica: ReplicaId; readonly ballot: Ballot } | null = null;
  private readyOutstanding: { committedInstance: number } | null = null;

  constructor(private readonly options: MultiPaxosOptions) {
    assert(options.peers.includes(options.id), `replica ${options.id} is not among its peers`);
    assert(new Set(options.peers).size === options.peers.length, 'peers repeat');
    this.id = options.id;
    this.limits = paxosLimitsCheck({ ...paxosLimitsDefault, ...options.limits });
    this.roundMax = options.hardState.roundMax;
    this.incarnation = options.hardState.incarnation;
    assert(incarnationValid(this.incarnation, { own: true }), `incarnation ${this.incarnation}`);
    this.effects = new Effects(options.peers);
    this.rebuild = options.hardState.rebuilding === true && options.peers.length > 1 ? this.createRebuild() : null;
    this.learner = this.createLearner(options.learnerState, { dedupIdsMax: this.limits.dedupIdsMax });
    this.acceptor = this.createAcceptor({
      id: options.id,
      promised: options.hardState.promised,
      store: options.store,
      effects: this.effects,
      persistHardState: () => this.persistHardState(),
      promiseRecordsMax: this.limits.promiseRecordsMax,
      promiseBytesMax: this.limits.promiseBytesMax,
      acceptAheadInstancesMax: this.limits.acceptAheadInstancesMax,
    });
    this.proposer = new Proposer({ id: options.id, peers: options.peers, limits: this.limits, effects: this.effects, host: this.proposerHost() });
    for (const record of this.acceptor.load(this.learner.committedInstance)) {
      if (record.chosen) this.learnAndRelease(record.instance, record.value, { persist: false });
    }
    this.campaignAtTick = this.silenceTimeout();
  }

  /** Overridden only by the test canaries, to inject a broken part. */
  protected createAcceptor(options: AcceptorOptions): Acceptor {
    return new Acceptor(options);
  }

  protected createRebuild(): Rebuild | null {
    return new Rebuild({ id: this.id, peers: this.options.peers, acceptAheadInstancesMax: this.limits.acceptAheadInstancesMax });
  }

  protected createLearner(state: LearnerState, options: { dedupIdsMax: number }): Learner {
    return new Learner(state, options);
  }

  get committedInstance(): number {
    return this.learner.committedInstance;
  }

  get promised(): Ballot {
    return this.acceptor.promised;
  }

  get phase(): ProposerPhase {
    return this.proposer.phase;
  }

  get acceptedInstanceMax(): number {
    return this.acceptor.acceptedInstanceMax;
  }

  status(): MultiPaxosStatus {
    return {
      id: this.id,
      phase: this.proposer.phase,
      ballot: this.proposer.ballot,
      promised: this.acceptor.promised,
      leaderHint: this.leaderHint(),
      committedInstance: this.learner.committedInstance,
      acceptedInstanceMax: this.acceptor.acceptedInstanceMax,
      offsetNext: this.learner.offsetNextValue,
      inflightInstances: this.proposer.inflightCount,
      queuedProposals: this.proposer.queuedCount,
      chosenKnownMax: Math.max(this.announcedMax, this.learner.chosenInstanceMax),
      fetchPeer: this.fetchPeerLast,
      rebuilding: this.rebuild === null ? null : { floor: this.rebuild.floor, answers: this.rebuild.answers },
    };
  }

  learnerState(): LearnerState {
    return this.learner.state();
  }

  /**
   * This replica publishes the plain live tail: the newest commit notice (of the highest ballot)
   * named it. Each released batch is marked with it (CommittedBatch.publishTail) as it is released.
   * During a change of leader, or of publisher by a path other than the notices (catch-up), entries
   * may go unpublished or be published twice; the tail is best effort, and its offsets show both
   * (docs/PROTOCOL.md).
   */
  get isTailPublisher(): boolean {
    // A leader goes by its own choice, which its notices carry: its own notice reaches it only
    // after it committed the batches that notice is about.
    if (this.proposer.phase === 'leading') return this.proposer.tailPublisherNow === this.id;
    return this.tailNamed?.replica === this.id;
  }

  /** The replica believed to lead, or null. */
  leaderHint(): ReplicaId | null {
    if (this.proposer.phase === 'leading') return this.id;
    if (this.options.leadership === 'external' && this.leaderExternal !== null) return this.leaderExternal;
    if (this.tickNow - this.leaderContactTick > this.limits.leaderSilenceTicksMin) return null;
    return this.leaderId;
  }

  propose(entries: readonly Entry[], options: { timestampMs: number }): ProposalId {
    const proposalId = this.proposalIdNext++;
    const problem = this.proposalProblem(entries);
    if (problem !== null) {
      this.fail(proposalId, problem, null);
      return proposalId;
    }
    if (this.proposer.phase === 'follower') {
      const hint = this.leaderHint();
      const mayCampaign = this.options.leadership !== 'external' && hint === null;
      if (!mayCampaign) {
        this.fail(proposalId, 'not-leader', hint);
        return proposalId;
      }
      if (this.tickNow >= this.campaignAtTick) this.campaign();
    }
    const queued = this.proposer.propose({ proposalId, entries, timestampMs: options.timestampMs });
    if (!queued) this.fail(proposalId, 'overloaded', this.leaderHint());
    return proposalId;
  }

  private proposalProblem(entries: readonly Entry[]): ProposalFailure | null {
    if (entries.length === 0) return 'invalid';
    if (entries.length > this.limits.batchEntriesMax) return 'too-large';
    let bytes = 0;
    for (const entry of entries) bytes += entryBytes(entry);
    return bytes > this.limits.batchBytesMax ? 'too-large' : null;
  }

  /** Starts Phase 1 now (the election calls this when it wins a lease); never while rebuilding. */
  campaign(): void {
    if (this.rebuild !== null) return;
    this.proposer.campaign(this.tickNow);
  }

  /** May vote and lead: not rebuilding from an empty store. */
  get isVoter(): boolean {
    return this.rebuild === null;
  }

  /** The election tells the core who holds the lease, for the hints it gives clients. */
  setLeaderExternal(leader: ReplicaId | null): void {
    this.leaderExternal = leader;
  }

  /** Stops proposing (the election calls this when the lease is lost). */
  stepDown(): void {
    this.proposer.stepDown(null);
  }

  tick(): void {
    this.tickNow++;
    const ok = this.proposer.tick(this.tickNow);
    if (!ok) this.campaignAtTick = this.tickNow + this.options.random.int(1, this.limits.backoffTicksMax);
    if (this.options.leadership !== 'external' && this.proposer.phase === 'follower' && this.tickNow >= this.campaignAtTick) {
      this.campaignAtTick = this.silenceTimeout();
      this.campaign();
    }
    this.maybeFetch(this.leaderHint(), this.learner.chosenInstanceMax);
    this.probe();
  }

  /**
   * While rebuilding, now and then: asks the others where they stand until the floor is known, then
   * tells them the floor until it votes again (see fillAboveFloor).
   */
  private probe(): void {
    if (this.rebuild === null) return;
    if (this.tickNow - this.probeSentTick < this.limits.fetchRetryTicks) return;
    this.probeSentTick = this.tickNow;
    const floor = this.rebuild.floor;
    for (const peer of this.options.peers) if (peer !== this.id) this.effects.send(peer, { type: 'probe', from: this.id, floor });
  }

  /**
   * A rebuilding replica votes again only once a leader chose an instance above its floor. When
   * clients append nothing, none would come: the leader proposes no-ops through floor + 1. A floor
   * further ahead than any honest one (an acceptor accepts at most acceptAheadInstancesMax past
   * what it committed) is ignored.
   */
  private fillAboveFloor(floor: number): void {
    if (this.proposer.phase !== 'leading') return;
    const chosenMax = this.learner.chosenInstanceMax;
    if (floor < chosenMax || floor > chosenMax + 2 * this.limits.acceptAheadInstancesMax) return;
    this.proposer.fillThrough(floor + 1);
  }

  private onProbed(message: ProbedMessage): void {
    if (this.rebuild === null) return;
    const { committedInstance, acceptedInstanceMax, promised } = message;
    const outcome = this.rebuild.observe(message.from, { committedInstance, acceptedInstanceMax, promised });
    if (outcome === 'new-cluster') this.vote(null);
    this.maybeVote();
  }

  /** A rebuilt replica votes again: it promises the ballot it saw, and clears its rebuilding mark. */
  private vote(ballot: Ballot | null): void {
    if (ballot !== null) this.acceptor.promiseAtLeast(ballot);
    this.rebuild = null;
    this.persistHardState();
  }

  private maybeVote(): void {
    if (this.rebuild === null) return;
    const ballot = this.rebuild.voteBallot(this.learner.committedInstance);
    if (ballot !== null) this.vote(ballot);
  }

  step(message: PaxosMessage): void {
    assert(this.options.peers.includes(message.from), `message from unknown replica ${message.from}`);
    switch (message.type) {
      case 'probe': {
        const { committedInstance } = this.learner;
        this.effects.send(message.from, { type: 'probed', from: this.id, committedInstance, acceptedInstanceMax: this.acceptor.acceptedInstanceMax, promised: this.acceptor.promised });
        if (message.floor !== null) this.fillAboveFloor(message.floor);
        return;
      }
      case 'probed':
        this.onProbed(message);
        return;
      case 'prepare':
        this.proposer.observeRound(message.ballot.round);
        if (this.rebuild === null) this.acceptor.onPrepare(message, this.learner.committedInstance);
        return;
      case 'promise':
        this.proposer.onPromise(message, this.tickNow);
        return;
      case 'accept':
        this.onAccept(message);
        return;
      case 'accepted':
        this.proposer.onAccepted(message);
        return;
      case 'reject':
        this.onReject(message.ballot, message.promised, message.from);
        return;
      case 'commit':
        this.onCommit(message);
        return;
      case 'fetch':
        this.sendChosen(message.from, message.instanceFrom);
        return;
      case 'fetched':
        this.onFetched(message);
        return;
      default:
        unreachable(message);
    }
  }

  private onAccept(message: AcceptMessage): void {
    this.proposer.observeRound(message.ballot.round);
    if (this.rebuild !== null) {
      this.maybeFetch(message.from, message.instance - 1); // a non-voting learner: no vote, only learning
      return;
    }
    const outcome = this.acceptor.onAccept(message, this.learner.committedInstance);
    if (outcome === 'rejected') return;
    this.heardLeader(message.from, message.ballot);
    // A late accept for an instance already chosen: its sender missed the choice, so send it the
    // chosen values. Not to itself: a leader's own accept, looped back behind a backlog in its
    // inbox, often arrives after its followers chose the instance, and the values are its own.
    if (outcome === 'chosen' && message.from !== this.id) this.sendChosen(message.from, message.instance);
    if (outcome === 'ahead') this.maybeFetch(message.from, message.instance);
  }

  private onReject(ballot: Ballot, promised: Ballot, from: ReplicaId): void {
    const wasActive = this.proposer.phase !== 'follower';
    this.proposer.onReject({ type: 'reject', from, ballot, promised });
    const phaseAfter: ProposerPhase = this.proposer.phase;
    if (wasActive && phaseAfter === 'follower') {
      this.campaignAtTick = this.tickNow + this.options.random.int(1, this.limits.backoffTicksMax);
    }
  }

  private heardLeader(from: ReplicaId, ballot: Ballot): void {
    if (from === this.id) return;
    const own = this.proposer.ballot;
    if (this.proposer.phase !== 'follower' && own !== null && ballotCompare(ballot, own) > 0) this.proposer.stepDown(from);
    if (ballotCompare(ballot, this.acceptor.promised) < 0) return;
    if (this.proposer.phase === 'follower') this.proposer.failQueued('not-leader', from);
    this.leaderId = from;
    this.leaderContactTick = this.tickNow;
    this.campaignAtTick = this.silenceTimeout();
  }

  private onCommit(message: CommitMessage): void {
    this.proposer.observeRound(message.ballot.round);
    this.heardLeader(message.from, message.ballot);
    if (this.tailNamed === null || ballotCompare(message.ballot, this.tailNamed.ballot) >= 0) {
      this.tailNamed = { replica: message.tailPublisher, ballot: message.ballot };
    }
    for (const { instance, valueId } of message.chosen) {
      if (this.learner.isChosen(instance)) continue;
      const record = this.acceptor.record(instance);
      if (record !== undefined && record.value.valueId === valueId) this.learnAndRelease(instance, record.value, { persist: true });
    }
    let announced = message.committedInstance;
    for (const { instance } of message.chosen) announced = Math.max(announced, instance);
    this.announcedMax = Math.max(this.announcedMax, announced);
    this.rebuild?.noticed(message.ballot, message.chosen.map((c) => c.instance));
    this.maybeVote();
    this.maybeFetch(message.from, announced);
  }

  private onFetched(message: FetchedMessage): void {
    const before = this.learner.committedInstance;
    if (message.from === this.fetchUnanswered) this.fetchUnanswered = null;
    this.announcedMax = Math.max(this.announcedMax, message.committedInstance);
    if (message.values.length === 0) {
      if (message.compactedInstance > before) this.effects.snapshotNeeded = { peer: message.from, instanceMin: message.compactedInstance };
      return;
    }
    if (before === 0 && message.committedInstance >= this.limits.snapshotJoinInstancesMin) {
      // An empty replica far behind (new, or its disk was lost) joins by snapshot, then the tail.
      this.effects.snapshotNeeded = { peer: message.from, instanceMin: message.committedInstance };
      return;
    }
    // A chunk is applied only whole and in order: consecutive instances, none beyond a gap.
    const first = message.values[0]!.instance;
    if (!message.values.every((item, i) => item.instance === first + i)) return;
    for (const { instance, value } of message.values) this.learnAndRelease(instance, value, { persist: true });
    const progressed = this.learner.committedInstance > before;
    if (progressed && message.committedInstance > this.learner.committedInstance) {
      this.fetchSentTick = Number.NEGATIVE_INFINITY;
      this.maybeFetch(message.from, message.committedInstance);
    }
  }

  /** Asks `peer` for chosen values when this replica knows it is missing some. */
  private maybeFetch(peer: ReplicaId | null, instanceKnownChosen: number): void {
    if (peer === null || peer === this.id) return;
    if (instanceKnownChosen <= this.learner.committedInstance) return;
    if (this.tickNow - this.fetchSentTick < this.limits.fetchRetryTicks) return;
    // The last fetch went unanswered (that peer may be dead): resume from where this replica
    // stopped, with the next peer in turn.
    const target = this.fetchUnanswered === null ? peer : this.peerAfter(this.fetchUnanswered);
    this.fetchSentTick = this.tickNow;
    this.fetchUnanswered = target;
    this.fetchPeerLast = target;
    this.effects.send(target, { type: 'fetch', from: this.id, instanceFrom: this.learner.committedInstance + 1 });
  }

  private peerAfter(peer: ReplicaId): ReplicaId {
    const others = this.options.peers.filter((id) => id !== this.id);
    assert(others.length > 0, 'a fetch needs another replica');
    const at = others.indexOf(peer);
    return others[(at + 1) % others.length]!;
  }

  /** Answers with the chosen values this replica knows from `instanceFrom` on, in order. */
  private sendChosen(to: ReplicaId, instanceFrom: number): void {
    const compactedInstance = this.options.store.compactedInstance();
    const committedInstance = this.learner.committedInstance;
    if (instanceFrom <= compactedInstance) {
      this.effects.send(to, { type: 'fetched', from: this.id, values: [], committedInstance, compactedInstance });
      return;
    }
    const values: Array<{ instance: number; value: Value }> = [];
    let bytes = 0;
    for (let instance = instanceFrom; values.length < this.limits.fetchInstancesMax; instance++) {
      const value = this.chosenValue(instance);
      if (value === undefined) break;
      // Stops before passing fetchBytesMax (one value always goes), as a promise page does.
      const bytesOfValue = valueBytes(value);
      if (values.length > 0 && bytes + bytesOfValue > this.limits.fetchBytesMax) break;
      values.push({ instance, value });
      bytes += bytesOfValue;
    }
    if (values.length === 0) return;
    this.effects.send(to, { type: 'fetched', from: this.id, values, committedInstance, compactedInstance });
  }

  private chosenValue(instance: number): Value | undefined {
    if (instance > this.learner.committedInstance) return this.learner.chosenValue(instance);
    const record = this.acceptor.record(instance);
    return record?.chosen === true ? record.value : undefined;
  }

  private learnAndRelease(instance: number, value: Value, options: { persist: boolean }): void {
    if (!this.learner.add(instance, value)) return;
    if (options.persist) this.acceptor.markChosen(instance, value);
    for (const batch of this.learner.release()) this.released(batch);
    this.proposer.learned(instance, value.valueId);
  }

  private released(batch: CommittedBatch): void {
    this.effects.committed.push(this.isTailPublisher ? { ...batch, publishTail: true } : batch);
    if (this.rebuild !== null) this.maybeVote();
    const waiting = this.pending.get(batch.instance);
    if (waiting === undefined) return;
    this.pending.delete(batch.instance);
    for (const { proposalId, valueId } of waiting) {
      if (valueId === batch.valueId) {
        this.effects.outcomes.push({ proposalId, status: 'committed', instance: batch.instance, results: batch.results });
      } else {
        this.fail(proposalId, 'superseded', this.leaderHint());
      }
    }
  }

  private fail(proposalId: ProposalId, reason: ProposalFailure, leaderHint: ReplicaId | null): void {
    this.effects.outcomes.push({ proposalId, status: 'failed', reason, leaderHint });
  }

  private persistHardState(): void {
    const hardState = { promised: this.acceptor.promised, roundMax: this.roundMax, incarnation: this.incarnation };
    this.effects.hardState = this.rebuild === null ? hardState : { ...hardState, rebuilding: true };
  }

  private silenceTimeout(): number {
    const silence = this.limits.leaderSilenceTicksMin;
    return this.tickNow + silence + this.options.random.int(0, silence);
  }

  private proposerHost(): ProposerHost {
    const paxos = this;
    return {
      get committedInstance() {
        return paxos.learner.committedInstance;
      },
      isChosen: (instance) => this.learner.isChosen(instance),
      chosenInstanceMax: () => this.learner.chosenInstanceMax,
      learn: (instance, value) => this.learnAndRelease(instance, value, { persist: true }),
      catchUp: (peer, instance) => this.maybeFetch(peer, instance),
      track: (instance, proposalId, valueId) => {
        assert(instance > this.learner.committedInstance, `instance ${instance} tracked after it was learned`);
        const waiting = this.pending.get(instance) ?? [];
        assert(waiting.every((w) => w.valueId !== valueId), `value ${valueId} tracked twice`);
        waiting.push({ proposalId, valueId });
        this.pending.set(instance, waiting);
      },
      fail: (proposalId, reason, hint) => this.fail(proposalId, reason, hint),
      persistRound: (round) => {
        assert(round > this.roundMax, `round ${round} reused`);
        this.roundMax = round;
        this.persistHardState();
      },
      get promised() {
        return paxos.acceptor.promised;
      },
      get roundMax() {
        return paxos.roundMax;
      },
      incarnation: this.incarnation,
    };
  }

  hasReady(): boolean {
    this.proposer.flushNotice(this.tickNow, false);
    return !this.effects.isEmpty();
  }

  /** Takes the effects accumulated since the last Ready. Call advance() once they are handled. */
  ready(): Ready {
    assert(this.readyOutstanding === null, 'ready() called before advance()');
    this.proposer.flushNotice(this.tickNow, false);
    this.readyOutstanding = { committedInstance: this.learner.committedInstance };
    return this.effects.take();
  }

  /** The last Ready is durable and sent: memory above the durable prefix may be dropped. */
  advance(): void {
    assert(this.readyOutstanding !== null, 'advance() without ready()');
    this.acceptor.forgetThrough(this.readyOutstanding.committedInstance);
    this.readyOutstanding = null;
    this.proposer.readyHandled();
  }
}

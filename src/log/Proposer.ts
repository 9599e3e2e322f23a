import { assert } from './assert.js';
import { type Ballot, type ReplicaId, ballotCompare, ballotEqual, ballotMake, ballotText } from './ballot.js';
import type { Effects } from './Effects.js';
import type { PaxosLimits } from './limits.js';
import type { AcceptedMessage, PromiseMessage, RejectMessage } from './messages.js';
import { type Entry, entriesBytes, type InstanceRecord, type ProposalFailure, type ProposalId, type Value } from './types.js';

/** What the proposer needs from the rest of the replica. */
export interface ProposerHost {
  readonly committedInstance: number;
  isChosen(instance: number): boolean;
  chosenInstanceMax(): number;
  /** A value is chosen: hand it to the learner and the acceptor's record. */
  learn(instance: number, value: Value): void;
  /** A promise showed `peer` has committed up to `instance`: fetch from it while Phase 1 runs. */
  catchUp(peer: ReplicaId, instance: number): void;
  /** A client proposal got an instance; its outcome is decided when that instance is learned. */
  track(instance: number, proposalId: ProposalId, valueId: string): void;
  fail(proposalId: ProposalId, reason: ProposalFailure, leaderHint: ReplicaId | null): void;
  /** The proposer used a new round; it must be durable before the prepare leaves. */
  persistRound(round: number): void;
  readonly promised: Ballot;
  readonly roundMax: number;
  /** This store's incarnation, the third part of every ballot this proposer makes. */
  readonly incarnation: number;
}

interface Queued {
  readonly proposalId: ProposalId;
  readonly entries: readonly Entry[];
  readonly timestampMs: number;
}

interface InFlight {
  readonly value: Value;
  readonly acceptedBy: Set<ReplicaId>;
  sentTick: number;
  /** Ticks until the next retransmission: doubles after each one, up to acceptRetryTicksMax. */
  retryTicks: number;
}

interface Preparing {
  readonly instanceFrom: number;
  /** Reset whenever a promise page arrives, so a long recovery is not cut off while it progresses. */
  startedTick: number;
  sentTick: number;
  /** Acceptors whose promise pages are complete. */
  readonly complete: Set<ReplicaId>;
  /** Per acceptor, the next page it owes (the prepare to resend on loss). */
  readonly cursor: Map<ReplicaId, number>;
  /** The highest-ballot record per instance among the promises. */
  readonly merged: Map<number, InstanceRecord>;
}

export type ProposerPhase = 'follower' | 'preparing' | 'leading';

/**
 * The proposer. Phase 1 runs once per leadership and covers every instance from the first
 * unlearned one onward; after it, only Phase 2 runs, with up to inflightInstancesMax instances in
 * flight, until a higher ballot rejects it.
 */
export class Proposer {
  private phaseNow: ProposerPhase = 'follower';
  private ballotNow: Ballot | null = null;
  private roundSeenMax = 0;
  private preparing: Preparing | null = null;
  private instanceNext = 0;
  private readonly inflight = new Map<number, InFlight>();
  private readonly recovery: Array<{ instance: number; value: Value }> = [];
  private readonly queue: Queued[] = [];
  /** Bytes of client batches started since the last Ready was handed out (see readyAcceptBytesMax). */
  private acceptBytesThisReady = 0;
  private noticePending: Array<{ instance: number; valueId: string }> = [];
  /** The tick the oldest pending notice's instance was chosen (see commitNoticeDelayTicks). */
  private noticePendingSinceTick = 0;
  /** Accepts went out since the last Ready was handled: a pending notice rides with them. */
  private acceptsThisReady = false;
  /** The tick each follower last answered an accept: who is alive and at the head of the log. */
  private readonly followerHeardTick = new Map<ReplicaId, number>();
  /** Named in every commit notice; this replica itself until a follower has answered. */
  private tailPublisher: ReplicaId;
  private noticeSentTick = 0;
  private tickNow = 0;

  constructor(
    private readonly options: {
      readonly id: ReplicaId;
      readonly peers: readonly ReplicaId[];
      readonly limits: PaxosLimits;
      readonly effects: Effects;
      readonly host: ProposerHost;
    },
  ) {
    this.tailPublisher = options.id;
  }

  get phase(): ProposerPhase {
    return this.phaseNow;
  }

  get ballot(): Ballot | null {
    return this.ballotNow;
  }

  get inflightCount(): number {
    return this.inflight.size;
  }

  get queuedCount(): number {
    return this.queue.length;
  }

  private get quorum(): number {
    return Math.floor(this.options.peers.length / 2) + 1;
  }

  /** Starts Phase 1 with a ballot above every round seen or used, persisted before it leaves. */
  campaign(tick: number): void {
    if (this.phaseNow !== 'follower') return;
    this.tickNow = tick;
    const host = this.options.host;
    const round = Math.max(host.promised.round, host.roundMax, this.roundSeenMax) + 1;
    const ballot = ballotMake({ round, replica: this.options.id, incarnation: host.incarnation });
    host.persistRound(round);
    this.ballotNow = ballot;
    this.phaseNow = 'preparing';
    const instanceFrom = host.committedInstance + 1;
    this.preparing = {
      instanceFrom,
      startedTick: tick,
      sentTick: tick,
      complete: new Set(),
      cursor: new Map(this.options.peers.map((peer) => [peer, instanceFrom])),
      merged: new Map(),
    };
    this.options.effects.broadcast({ type: 'prepare', from: this.options.id, ballot, instanceFrom });
  }

  /** Queues a client batch. It goes out once this replica leads and the window has room. */
  propose(proposal: Queued): boolean {
    if (this.queue.length >= this.options.limits.proposalsQueuedMax) return false;
    this.queue.push(proposal);
    this.pump();
    return true;
  }

  onPromise(message: PromiseMessage, tick: number): void {
    const preparing = this.preparing;
    if (preparing === null || this.ballotNow === null || !ballotEqual(message.ballot, this.ballotNow)) return;
    if (preparing.complete.has(message.from)) return;
    if (message.instanceFrom !== preparing.cursor.get(message.from)) return;
    if (message.committedInstance > this.options.host.committedInstance) this.options.host.catchUp(message.from, message.committedInstance);
    // This acceptor compacted away instances this proposer has not learned: its promise cannot
    // report them, so it does not count (nor does it keep this Phase 1 alive). The proposer learns
    // them (by snapshot) first; once it has, the same promise counts, since it skips what it knows.
    const compactedUnknown = message.compactedInstance >= preparing.instanceFrom && message.compactedInstance > this.options.host.committedInstance;
    if (compactedUnknown) return;
    preparing.startedTick = tick;
    for (const record of message.records) {
      assert(record.instance >= preparing.instanceFrom, `promise record ${record.instance} below prepare`);
      const known = preparing.merged.get(record.instance);
      if (known === undefined || record.chosen || (!known.chosen && ballotCompare(record.ballot, known.ballot) > 0)) {
        preparing.merged.set(record.instance, record);
      }
    }
    if (message.instanceNext !== null) {
      assert(message.instanceNext > message.instanceFrom, 'promise page does not advance');
      preparing.cursor.set(message.from, message.instanceNext);
      this.options.effects.send(message.from, {
        type: 'prepare',
        from: this.options.id,
        ballot: this.ballotNow,
        instanceFrom: message.instanceNext,
      });
      return;
    }
    preparing.complete.add(message.from);
    if (preparing.complete.size >= this.quorum) this.lead(preparing, tick);
  }

  /** Phase 1 done: re-propose the highest-ballot value of every open instance, no-ops for holes. */
  private lead(preparing: Preparing, tick: number): void {
    assert(this.ballotNow !== null, 'leading without a ballot');
    let instanceLast = Math.max(this.options.host.chosenInstanceMax(), preparing.instanceFrom - 1);
    for (const instance of preparing.merged.keys()) instanceLast = Math.max(instanceLast, instance);
    this.phaseNow = 'leading';
    this.preparing = null;
    this.instanceNext = instanceLast + 1;
    for (let instance = preparing.instanceFrom; instance <= instanceLast; instance++) {
      const record = preparing.merged.get(instance);
      if (record?.chosen === true) this.options.host.learn(instance, record.value);
      if (this.options.host.isChosen(instance)) continue;
      const value = record?.value ?? { valueId: `${ballotText(this.ballotNow)}:${instance}`, entries: [], timestampMs: 0 };
      this.recovery.push({ instance, value });
    }
    this.noticeSentTick = tick;
    this.tickNow = tick;
    this.pump();
  }

  onAccepted(message: AcceptedMessage): void {
    if (this.phaseNow !== 'leading' || this.ballotNow === null || !ballotEqual(message.ballot, this.ballotNow)) return;
    const flight = this.inflight.get(message.instance);
    if (flight === undefined) return;
    flight.acceptedBy.add(message.from);
    if (message.from !== this.options.id) {
      this.followerHeardTick.set(message.from, this.tickNow);
      // Before the instance can be chosen: the batches this leader commits from now on are
      // published by the replica its next notice names, never by both.
      this.tailPublisherChoose(this.tickNow);
    }
    if (flight.acceptedBy.size < this.quorum) return;
    this.chosen(message.instance, flight.value);
  }

  /** A quorum accepted what this leader proposed. */
  private chosen(instance: number, value: Value): void {
    if (this.noticePending.length === 0) this.noticePendingSinceTick = this.tickNow;
    this.noticePending.push({ instance, valueId: value.valueId });
    this.options.host.learn(instance, value);
  }

  /**
   * The replica learned `instance` (from this leader's quorum or from a peer): stop proposing it.
   * A value this leader did not propose, where it has one in flight or beyond all it proposed, can
   * only have been chosen under a higher ballot: this leader is stale and steps down.
   */
  learned(instance: number, valueId: string): void {
    const flight = this.inflight.get(instance);
    const stale =
      this.phaseNow === 'leading' &&
      ((flight !== undefined && flight.value.valueId !== valueId) || instance >= this.instanceNext);
    if (stale) {
      this.stepDown(null);
      return;
    }
    if (this.inflight.delete(instance)) this.pump();
  }

  onReject(message: RejectMessage): void {
    this.observeRound(message.promised.round);
    if (this.ballotNow === null || !ballotEqual(message.ballot, this.ballotNow)) return;
    if (ballotCompare(message.promised, this.ballotNow) <= 0) return;
    this.stepDown(message.promised.replica);
  }

  observeRound(round: number): void {
    if (round > this.roundSeenMax) this.roundSeenMax = round;
  }

  /** Stops leading or preparing. Queued proposals fail; proposed ones await their instance. */
  stepDown(leaderHint: ReplicaId | null): void {
    if (this.phaseNow === 'follower') return;
    this.phaseNow = 'follower';
    this.preparing = null;
    this.inflight.clear();
    this.recovery.length = 0;
    this.noticePending = [];
    this.failQueued('not-leader', leaderHint);
  }

  failQueued(reason: ProposalFailure, leaderHint: ReplicaId | null): void {
    for (const queued of this.queue.splice(0)) this.options.host.fail(queued.proposalId, reason, leaderHint);
  }

  /** Retransmissions, the Phase 1 timeout and the leader's heartbeat. Returns false on a timeout. */
  tick(tick: number): boolean {
    this.tickNow = tick;
    const limits = this.options.limits;
    if (this.preparing !== null) {
      if (tick - this.preparing.startedTick >= limits.prepareTicksMax) {
        this.stepDown(null);
        return false;
      }
      if (tick - this.preparing.sentTick >= limits.prepareRetryTicks) this.resendPrepares(this.preparing, tick);
    }
    if (this.phaseNow === 'leading') {
      // Backing off matters under overload: acceptors that are slow to persist would otherwise be
      // sent the whole window again every acceptRetryTicks, and fall further behind decoding it.
      for (const [instance, flight] of this.inflight) {
        if (tick - flight.sentTick < flight.retryTicks) continue;
        this.sendAccept(instance, flight, tick);
        flight.retryTicks = Math.min(2 * flight.retryTicks, limits.acceptRetryTicksMax);
      }
      this.flushNotice(tick, tick - this.noticeSentTick >= limits.heartbeatTicks);
    }
    return true;
  }

  private resendPrepares(preparing: Preparing, tick: number): void {
    assert(this.ballotNow !== null, 'preparing without a ballot');
    preparing.sentTick = tick;
    for (const [peer, instanceFrom] of preparing.cursor) {
      if (preparing.complete.has(peer)) continue;
      this.options.effects.send(peer, { type: 'prepare', from: this.options.id, ballot: this.ballotNow, instanceFrom });
    }
  }

  /**
   * Sends the commit notice for newly chosen instances once it is due (or a bare heartbeat when
   * `always`): with accepts of the same Ready, after commitNoticeDelayTicks, or when it is full.
   */
  flushNotice(tick: number, always: boolean): void {
    if (this.phaseNow !== 'leading' || this.ballotNow === null) return;
    if (this.noticePending.length === 0 && !always) return;
    const limits = this.options.limits;
    const due =
      always ||
      this.acceptsThisReady ||
      tick - this.noticePendingSinceTick >= limits.commitNoticeDelayTicks ||
      this.noticePending.length >= limits.commitNoticeInstancesMax;
    if (!due) return;
    const max = limits.commitNoticeInstancesMax;
    const tailPublisher = this.tailPublisherChoose(tick);
    do {
      const chosen = this.noticePending.splice(0, max);
      this.options.effects.broadcast({
        type: 'commit',
        from: this.options.id,
        ballot: this.ballotNow,
        chosen,
        committedInstance: this.options.host.committedInstance,
        tailPublisher,
      });
    } while (this.noticePending.length > 0);
    this.noticeSentTick = tick;
  }

  /** The replica this leader names to publish the plain live tail. */
  get tailPublisherNow(): ReplicaId {
    return this.tailPublisher;
  }

  /**
   * The replica to publish the plain live tail: the current one while the leader hears from it (or
   * from nobody: an idle log commits nothing to publish), else the lowest-id follower heard lately.
   * A single replica publishes its own.
   */
  private heardLately(peer: ReplicaId, tick: number): boolean {
    return tick - (this.followerHeardTick.get(peer) ?? Number.NEGATIVE_INFINITY) <= this.options.limits.tailPublisherSilenceTicks;
  }

  private tailPublisherChoose(tick: number): ReplicaId {
    if (this.tailPublisher !== this.options.id && this.heardLately(this.tailPublisher, tick)) return this.tailPublisher;
    const candidates = this.options.peers.filter((peer) => peer !== this.options.id && this.heardLately(peer, tick));
    if (candidates.length > 0) this.tailPublisher = Math.min(...candidates);
    return this.tailPublisher;
  }

  /**
   * Proposes a no-op for every instance from the next one through `instanceTarget` (see
   * MultiPaxos.fillAboveFloor); they go ahead of queued client batches, like recovered instances.
   */
  fillThrough(instanceTarget: number): void {
    if (this.phaseNow !== 'leading' || this.ballotNow === null) return;
    this.instanceNext = Math.max(this.instanceNext, this.options.host.chosenInstanceMax() + 1);
    const recoveredLast = this.recovery[this.recovery.length - 1];
    assert(recoveredLast === undefined || recoveredLast.instance < this.instanceNext, 'a recovered instance at or beyond the next instance');
    while (this.instanceNext <= instanceTarget) {
      const instance = this.instanceNext++;
      this.recovery.push({ instance, value: { valueId: `${ballotText(this.ballotNow)}:${instance}`, entries: [], timestampMs: 0 } });
    }
    this.pump();
  }

  /**
   * The last Ready is handled (written and sent): the next one may start readyAcceptBytesMax of
   * queued batches again.
   */
  readyHandled(): void {
    this.acceptBytesThisReady = 0;
    this.acceptsThisReady = false;
    this.pump();
  }

  /** Fills the pipeline window: recovered instances first, then queued client batches, bounded per Ready. */
  private pump(): void {
    if (this.phaseNow !== 'leading' || this.ballotNow === null) return;
    const window = this.options.limits.inflightInstancesMax;
    while (this.inflight.size < window && this.recovery.length > 0) {
      const next = this.recovery.shift();
      assert(next !== undefined, 'recovery queue underflow');
      if (this.options.host.isChosen(next.instance)) continue;
      this.start(next.instance, next.value);
    }
    while (this.inflight.size < window && this.recovery.length === 0 && this.queue.length > 0) {
      const head = this.queue[0];
      assert(head !== undefined, 'proposal queue underflow');
      const bytes = entriesBytes(head.entries);
      if (this.acceptBytesThisReady > 0 && this.acceptBytesThisReady + bytes > this.options.limits.readyAcceptBytesMax) return;
      this.acceptBytesThisReady += bytes;
      const queued = this.queue.shift();
      assert(queued === head, 'proposal queue changed under pump');
      this.instanceNext = Math.max(this.instanceNext, this.options.host.chosenInstanceMax() + 1);
      const instance = this.instanceNext++;
      const value: Value = {
        valueId: `${ballotText(this.ballotNow)}:${instance}`,
        entries: queued.entries,
        timestampMs: queued.timestampMs,
      };
      this.options.host.track(instance, queued.proposalId, value.valueId);
      this.start(instance, value);
    }
  }

  private start(instance: number, value: Value): void {
    assert(!this.inflight.has(instance), `instance ${instance} proposed twice in one ballot`);
    const flight: InFlight = { value, acceptedBy: new Set(), sentTick: 0, retryTicks: this.options.limits.acceptRetryTicks };
    this.inflight.set(instance, flight);
    this.sendAccept(instance, flight, this.tickNow);
  }

  private sendAccept(instance: number, flight: InFlight, tick: number): void {
    assert(this.ballotNow !== null, 'accept without a ballot');
    flight.sentTick = tick;
    this.acceptsThisReady = true;
    for (const peer of this.options.peers) {
      if (flight.acceptedBy.has(peer)) continue;
      this.options.effects.send(peer, {
        type: 'accept',
        from: this.options.id,
        ballot: this.ballotNow,
        instance,
        value: flight.value,
      });
    }
  }
}

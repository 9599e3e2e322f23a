import { leaseLimitsDefault } from '../../src/election/limits.js';
import { InvariantError } from '../../src/log/assert.js';
import { ballotCompare, ballotText, type ReplicaId } from '../../src/log/ballot.js';
import { SeededRandom } from '../../src/log/random.js';
import type { Entry, ProposalOutcome } from '../../src/log/types.js';
import { Replica, type ReplicaMessage, type ReplicaReady } from '../../src/replica/Replica.js';
import { Checker, Violation } from './Checker.js';
import { EventQueue } from './EventQueue.js';
import { type ReplicaFactory, SimReplica } from './SimReplica.js';

export interface SimOptions {
  readonly seed: number;
  readonly replicas?: number;
  readonly make?: ReplicaFactory;
  /** false: no PaxosLease; the core's silence rule picks proposers (seed question 1). */
  readonly election?: boolean;
  /** Dueling proposers: a forced Paxos campaign every 10-60 ms through the chaos. */
  readonly duel?: boolean;
  /** Clocks run beyond the drift bound the leases assume (rates 0.5-1.5, and stalls). */
  readonly driftBeyondBound?: boolean;
  /** Wide-area delays (5-40 ms, comparable to the 10 ms tick) instead of a LAN's 1-3 ms. */
  readonly wan?: boolean;
  /**
   * Instead of chaos: a cold start with a minority of replicas down for good, so every election
   * round waits out its gather time and candidates race on timers (the duel random back-off breaks).
   */
  readonly duelElection?: boolean;
  /** Instead of chaos: one failover of a serving leader, measured. */
  readonly failover?: 'crash' | 'release';
  readonly chaosMs?: number;
  readonly livenessBoundMs?: number;
  /**
   * Disks are lost too (a crash that comes back empty, rebuilding), replicas compact their
   * records below their last checkpoint, and a replica whose next instances are compacted away
   * installs a peer's snapshot.
   */
  readonly wipes?: boolean;
}

export interface SimResult {
  readonly seed: number;
  readonly replicas: number;
  readonly violation: string | null;
  readonly simulatedMs: number;
  readonly events: number;
  readonly committedEntries: number;
  readonly acked: number;
  readonly crashes: number;
  readonly partitions: number;
  readonly contentions: number;
  /** Simulated instants at which two replicas believed they held the lease. */
  readonly leaseOverlaps: number;
  readonly wipes: number;
  readonly snapshots: number;
  /** Failover mode: from the fault to a new holder serving, in simulated ms. */
  readonly failoverMs: number | null;
}

type SimEvent =
  | { kind: 'deliver'; to: ReplicaId; life: number | null; message: ReplicaMessage }
  | { kind: 'tick'; replica: ReplicaId; life: number }
  | { kind: 'persisted'; replica: ReplicaId; life: number }
  | { kind: 'crash'; replica: ReplicaId }
  | { kind: 'restart'; replica: ReplicaId }
  | { kind: 'shutdown'; replica: ReplicaId | null }
  | { kind: 'partition' }
  | { kind: 'heal'; cut: ReadonlyArray<readonly [ReplicaId, ReplicaId]> }
  | { kind: 'contend' }
  | { kind: 'client'; client: number }
  | { kind: 'request'; to: ReplicaId; request: number }
  | { kind: 'reply'; request: number; outcome: ProposalOutcome }
  | { kind: 'timeout'; request: number; attempt: number }
  | { kind: 'endChaos' }
  | { kind: 'failover' }
  | { kind: 'wipe'; replica: ReplicaId }
  | { kind: 'snapshot'; replica: ReplicaId; life: number; from: ReplicaId; instanceMin: number };

export const simTickMs = 10;
/** SIM_TRACE=1 prints leadership changes and lease traffic, for replaying one seed. */
const trace = process.env['SIM_TRACE'] === '1';

interface ClientRequest {
  readonly entries: Entry[];
  attempt: number;
  target: ReplicaId;
  done: boolean;
}

/**
 * One seeded run of a whole cluster: the network loses, duplicates, delays and reorders
 * messages and partitions links; replicas crash, restart and shut down cleanly; clocks drift;
 * several proposers contend. After the chaos the faults heal: a leader must be elected, every
 * client request must commit within the liveness bound, and a healthy leader must never lapse.
 */
export class Simulation {
  private readonly random: SeededRandom;
  private readonly queue = new EventQueue<SimEvent>();
  private readonly replicas = new Map<ReplicaId, SimReplica>();
  private readonly peers: ReplicaId[];
  private readonly checker: Checker;
  private readonly cut = new Set<string>();
  private readonly requests: ClientRequest[] = [];
  private readonly waiting = new Map<string, number>();
  private readonly holders = new Set<ReplicaId>();
  private readonly serving = new Set<ReplicaId>();
  /** Replicas shutting down cleanly: they exit once their last Ready (with the release) is out. */
  private readonly stopping = new Set<ReplicaId>();
  private now = 0;
  private chaos: boolean;
  private events = 0;
  private readonly counts = { crashes: 0, partitions: 0, contentions: 0, leaseOverlaps: 0, wipes: 0, snapshots: 0 };
  private readonly loss: number;
  private readonly duplication: number;
  private readonly chaosMs: number;
  private readonly livenessBoundMs: number;
  private readonly election: boolean;
  private readonly driftRatio: number;
  private readonly clientRequestsMax: number;
  /** After the heal, from the first moment a leader serves: no lease may lapse from then on. */
  private quietServing = false;
  private quietServingSince = 0;
  /** How long the healed cluster must keep serving, so that leases renew several times. */
  private readonly quietMs: number;
  /** Dueling cold start: once acceptors answer, a leader must serve within this. */
  private readonly electionBoundMs = 1_500;
  /** The longest real time a restarted lease acceptor stays silent. */
  private readonly silenceMs: number;
  private failover: { phase: 'waiting' | 'armed' | 'measuring'; faultAt: number; from: ReplicaId; ms: number | null } | null;

  constructor(private readonly options: SimOptions) {
    this.random = new SeededRandom(options.seed);
    const size = options.replicas ?? (options.seed % 2 === 0 ? 3 : 5);
    this.peers = Array.from({ length: size }, (_, i) => i + 1);
    this.checker = new Checker(Math.floor(size / 2) + 1);
    this.election = options.election ?? true;
    this.chaos = options.failover === undefined && options.duelElection !== true;
    this.failover = options.failover === undefined ? null : { phase: 'waiting', faultAt: 0, from: 0, ms: null };
    this.loss = this.chaos ? this.random.next() * 0.15 : 0;
    this.duplication = this.chaos ? this.random.next() * 0.05 : 0;
    const leaseMs = leaseLimitsDefault.leaseTicks * simTickMs;
    this.chaosMs = options.chaosMs ?? (this.election ? 2 * leaseMs : 2_000);
    this.livenessBoundMs = options.livenessBoundMs ?? (this.election ? 3 * leaseMs + 2_000 : 5_000);
    // A dueling cold start uses the near-perfect clocks of real machines (NTP-disciplined, ppm).
    this.driftRatio = options.driftBeyondBound === true ? 0.5 : options.duelElection === true ? 1e-5 : leaseLimitsDefault.driftRatioMax;
    this.clientRequestsMax = this.random.int(20, 60);
    this.quietMs = this.election ? 2.5 * leaseMs : 0;
    this.silenceMs = ((leaseLimitsDefault.leaseTicks + 1) * simTickMs) / (1 - this.driftRatio) + 100;
    const make = options.make ?? ((o) => new Replica(o));
    const paxosLimits = {
      inflightInstancesMax: this.random.int(1, 8), promiseRecordsMax: 8, fetchInstancesMax: 4, leaderSilenceTicksMin: 15, backoffTicksMax: 15,
      acceptAheadInstancesMax: 16, snapshotJoinInstancesMin: 20,
      // From the seed, not the random stream, so every seed's run is otherwise what it was.
      commitNoticeDelayTicks: Math.floor(options.seed / 2) % 3,
    };
    for (const id of this.peers) {
      const replica = new SimReplica(id, {
        peers: this.peers, random: this.random.fork(), make, replica: { paxosLimits, election: this.election }, dedupIdsMax: 100_000,
      });
      replica.rate = 1 + (this.random.next() * 2 - 1) * this.driftRatio;
      this.replicas.set(id, replica);
    }
  }

  run(): SimResult {
    let violation: string | null = null;
    try {
      this.setUp();
      this.loop();
      this.checker.finish();
    } catch (error) {
      if (!(error instanceof Violation || error instanceof InvariantError)) throw error;
      violation = `${error.name}: ${error.message}`;
    }
    return {
      seed: this.options.seed,
      replicas: this.peers.length,
      violation,
      simulatedMs: Math.round(this.now),
      events: this.events,
      committedEntries: this.checker.committedEntries,
      acked: this.checker.stats.acked,
      ...this.counts,
      failoverMs: this.failover?.ms ?? null,
    };
  }

  private setUp(): void {
    const down = this.options.duelElection === true ? Math.floor((this.peers.length - 1) / 2) : 0;
    for (const replica of this.replicas.values()) if (replica.id <= this.peers.length - down) this.restart(replica.id);
    for (let client = 0; client < 3; client++) this.queue.push(this.random.int(0, 50), { kind: 'client', client });
    if (this.chaos) this.scheduleChaos();
  }

  private scheduleChaos(): void {
    for (let at = this.random.int(50, 400); at < this.chaosMs; at += this.random.int(100, 600)) {
      const roll = this.random.next();
      const event: SimEvent =
        roll < 0.35 ? { kind: 'crash', replica: this.pick() }
        : roll < 0.65 ? { kind: 'partition' }
        : roll < 0.8 && this.election ? { kind: 'shutdown', replica: null }
        : roll < 0.9 && this.options.wipes === true ? { kind: 'wipe', replica: this.pick() }
        : { kind: 'contend' };
      this.queue.push(at, event);
    }
    if (this.options.duel === true) {
      for (let at = this.random.int(10, 60); at < this.chaosMs; at += this.random.int(10, 60)) this.queue.push(at, { kind: 'contend' });
    }
    this.queue.push(this.chaosMs, { kind: 'endChaos' });
  }

  private loop(): void {
    const deadline = this.options.duelElection === true
      ? this.silenceMs + this.electionBoundMs
      : (this.chaos ? this.chaosMs : 0) + this.livenessBoundMs + this.silenceMs + this.quietMs + (this.failover === null ? 0 : 5_000);
    for (;;) {
      if (this.finished()) return;
      const next = this.queue.pop();
      if (next === undefined) throw new Violation('the event queue ran dry');
      if (next.at > deadline) {
        const open = this.requests.filter((r) => !r.done).length;
        const what = this.options.duelElection === true ? 'no leader serving' : `${open} client requests open, failover ${this.failover?.phase ?? '-'}`;
        throw new Violation(`liveness: ${what} at ${Math.round(next.at)} ms; ${this.describe()}`);
      }
      this.now = next.at;
      this.events++;
      this.handle(next.item);
    }
  }

  private finished(): boolean {
    if (this.failover !== null) return this.failover.ms !== null;
    if (this.options.duelElection === true) return this.serving.size > 0;
    if (this.chaos || !this.requests.every((r) => r.done) || this.requests.length < this.clientRequestsMax) return false;
    if (!this.election) return true;
    if (this.options.driftBeyondBound === true) return this.now >= this.chaosMs + this.quietMs;
    return this.quietServing && this.now - this.quietServingSince >= this.quietMs;
  }

  private handle(event: SimEvent): void {
    switch (event.kind) {
      case 'deliver': return this.deliver(event.to, event.life, event.message);
      case 'tick': return this.tick(event.replica, event.life);
      case 'persisted': return this.persisted(event.replica, event.life);
      case 'crash': return this.crash(event.replica);
      case 'restart': return this.restart(event.replica);
      case 'shutdown': return this.shutdown(event.replica);
      case 'partition': return this.partition();
      case 'heal': for (const [a, b] of event.cut) this.cut.delete(`${a}>${b}`); return;
      case 'contend': return this.contend();
      case 'client': return this.clientNext(event.client);
      case 'request': return this.request(event.to, event.request);
      case 'reply': return this.reply(event.request, event.outcome);
      case 'timeout': return this.timeout(event.request, event.attempt);
      case 'endChaos': return this.endChaos();
      case 'failover': return this.fault();
      case 'wipe': return this.wipe(event.replica);
      case 'snapshot': return this.snapshot(event);
    }
  }

  /** One line per replica, for a failure report. */
  private describe(): string {
    return [...this.replicas.values()]
      .map((r) => {
        if (r.core === null) return `r${r.id}: down`;
        const s = r.core.status();
        const ballot = s.ballot === null ? '-' : `${s.ballot.round}.${s.ballot.replica}`;
        const lease = s.lease === null ? '' : ` lease holder ${s.lease.isHolder} knows ${s.lease.holderKnown} silent ${s.lease.acceptorSilent}`;
        return `r${r.id}: ${s.phase} ballot ${ballot} promised ${s.promised.round}.${s.promised.replica} committed ${s.committedInstance} accepted ${s.acceptedInstanceMax} inflight ${s.inflightInstances} queued ${s.queuedProposals}${lease}`;
      })
      .join('; ');
  }

  private pick(): ReplicaId {
    return this.peers[this.random.int(0, this.peers.length - 1)]!;
  }

  private replica(id: ReplicaId): SimReplica {
    const replica = this.replicas.get(id);
    if (replica === undefined) throw new Violation(`no replica ${id}`);
    return replica;
  }

  /** Each replica ticks by its own clock, whose rate drifts within the bound (or beyond it). */
  private tick(id: ReplicaId, life: number): void {
    const replica = this.replica(id);
    if (replica.core === null || replica.life !== life) return;
    const bound = this.driftRatio;
    replica.rate = Math.min(1 + bound, Math.max(1 - bound, replica.rate + (this.random.next() * 2 - 1) * bound * 0.1));
    const stall = this.options.driftBeyondBound === true && this.random.next() < 0.005 ? this.random.int(500, 3_000) : 0;
    this.queue.push(this.now + simTickMs / replica.rate + stall, { kind: 'tick', replica: id, life });
    replica.core.tick();
    this.after(replica);
  }

  private deliver(to: ReplicaId, life: number | null, message: ReplicaMessage): void {
    const replica = this.replica(to);
    if (replica.core === null || (life !== null && life !== replica.life)) return;
    replica.core.step(message);
    this.after(replica);
  }

  /** After every input to a replica: the checks that watch it, then its driver loop. */
  private after(replica: SimReplica): void {
    const core = replica.core;
    if (core === null) return;
    this.checker.promised(replica.id, core.promised, replica.life);
    this.watchLeadership(replica.id, core);
    this.drive(replica);
  }

  private watchLeadership(id: ReplicaId, core: Replica): void {
    const wasHolder = this.holders.has(id);
    const wasServing = this.serving.has(id);
    if (core.isLeaseHolder) this.holders.add(id);
    else this.holders.delete(id);
    if (trace && (wasHolder !== core.isLeaseHolder || wasServing !== core.isServing)) {
      console.log(`${this.now.toFixed(1)} r${id} holder ${core.isLeaseHolder} serving ${core.isServing} :: ${this.describe()}`);
    }
    if (this.holders.size > 1) {
      this.counts.leaseOverlaps++;
      if (this.options.driftBeyondBound !== true) throw new Violation(`lease held by ${[...this.holders].join(' and ')} at once`);
    }
    if (core.isServing) this.serving.add(id);
    else this.serving.delete(id);
    this.watchFailover();
  }

  /** The driver loop: one Ready at a time; its writes take a simulated fsync. */
  private drive(replica: SimReplica): void {
    const core = replica.core;
    if (core === null || replica.persisting !== null || !core.hasReady()) return;
    const ready = core.ready();
    replica.persisting = ready;
    for (const envelope of ready.leaseMessages) this.send(replica.id, envelope.to, envelope.message);
    for (const envelope of ready.messagesEarly) this.send(replica.id, envelope.to, envelope.message);
    const writes = ready.records.length + (ready.hardState === null ? 0 : 1);
    const fsyncMs = writes === 0 ? 0 : this.random.int(0, 2);
    this.queue.push(this.now + fsyncMs, { kind: 'persisted', replica: replica.id, life: replica.life });
  }

  private persisted(id: ReplicaId, life: number): void {
    const replica = this.replica(id);
    const ready = replica.persisting;
    if (replica.core === null || replica.life !== life || ready === null) return;
    replica.write(ready, ready.records.length, true);
    this.durable(id, ready, ready.records.length);
    for (const envelope of ready.messages) this.send(id, envelope.to, envelope.message);
    this.apply(replica, ready);
    this.watchQuiet(id, ready);
    replica.persisting = null;
    replica.core.advance();
    // The real store writes the learner cursor in the transaction that writes the chosen marks,
    // so a crash never keeps the cursor beyond them: save only when no write is unsynced.
    if (replica.disk.unsynced.length === 0 && this.random.next() < 0.3) replica.checkpoint();
    if (this.options.wipes === true) this.compact(replica);
    if (ready.snapshotNeeded !== null) {
      const { peer, instanceMin } = ready.snapshotNeeded;
      this.queue.push(this.now + this.random.int(5, 50), { kind: 'snapshot', replica: id, life: replica.life, from: peer, instanceMin });
    }
    this.drive(replica);
    if (this.stopping.has(id) && replica.persisting === null) this.crash(id);
  }

  /**
   * Once the faults have healed and every restarted acceptor has waited out its silence, the first
   * lease acquired or renewed starts the quiet check: from then on no lease may lapse.
   */
  private watchQuiet(id: ReplicaId, ready: ReplicaReady): void {
    if (this.chaos || this.failover !== null || this.options.driftBeyondBound === true) return;
    if (this.quietServing && ready.leaseEvents.includes('lost')) {
      throw new Violation(`replica ${id} let its lease lapse after the faults healed`);
    }
    const granted = ready.leaseEvents.includes('acquired') || ready.leaseEvents.includes('renewed');
    if (!this.quietServing && granted && this.now >= this.chaosMs + this.silenceMs) {
      this.quietServing = true;
      this.quietServingSince = this.now;
    }
  }

  private durable(id: ReplicaId, ready: ReplicaReady, recordsKept: number): void {
    for (const record of ready.records.slice(0, recordsKept)) this.checker.durableRecord(id, record);
  }

  private apply(replica: SimReplica, ready: ReplicaReady): void {
    const fsm = replica.fsm;
    if (fsm === null) throw new Violation('replica up without a state machine');
    for (const batch of ready.committed) {
      this.checker.released(replica.id, batch, fsm.learnerState().committedInstance);
      fsm.apply(batch);
    }
    for (const outcome of ready.outcomes) {
      const key = `${replica.id}:${replica.life}:${outcome.proposalId}`;
      const request = this.waiting.get(key);
      if (request === undefined) continue;
      this.waiting.delete(key);
      if (this.chaos && this.random.next() < this.loss) continue;
      this.queue.push(this.now + this.random.int(1, 3), { kind: 'reply', request, outcome });
    }
  }

  /** What a message reveals must already be on its sender's disk: persist before send. */
  private checkDurableBeforeSend(from: ReplicaId, message: ReplicaMessage): void {
    const disk = this.replica(from).disk;
    const hard = disk.stable.hardState();
    const revealed = message.type === 'promise' || message.type === 'accepted' ? message.ballot : message.type === 'reject' ? message.promised : null;
    if (revealed !== null && ballotCompare(hard.promised, revealed) < 0) {
      throw new Violation(`replica ${from} sent ${message.type} revealing ${ballotText(revealed)} with ${ballotText(hard.promised)} on disk`);
    }
    if (message.type === 'prepare' && hard.roundMax < message.ballot.round) {
      throw new Violation(`replica ${from} sent prepare of round ${message.ballot.round} with round ${hard.roundMax} on disk`);
    }
    if (message.type === 'accepted') {
      const [record] = disk.log.records({ instanceFrom: message.instance, instanceTo: message.instance, recordsMax: 1 });
      if (record === undefined || (!record.chosen && ballotCompare(record.ballot, message.ballot) < 0)) {
        throw new Violation(`replica ${from} sent accepted for ${message.instance} at ${ballotText(message.ballot)} without the record on disk`);
      }
    }
  }

  private send(from: ReplicaId, to: ReplicaId, message: ReplicaMessage): void {
    this.checkDurableBeforeSend(from, message);
    if ((message.type === 'prepare' || message.type === 'accept') && message.ballot.replica === from) this.checker.ballotUsed(from, message);
    if (trace && message.type.startsWith('lease-')) console.log(`${this.now.toFixed(1)} ${from}->${to} ${JSON.stringify(message)}`);
    if (message.type === 'promise' || message.type === 'accepted') this.checker.promiseShown(from, message.ballot);
    if (message.type === 'reject') this.checker.promiseShown(from, message.promised);
    if (from === to) {
      this.queue.push(this.now, { kind: 'deliver', to, life: this.replica(to).life, message });
      return;
    }
    if (this.cut.has(`${from}>${to}`)) return;
    if (this.chaos && this.random.next() < this.loss) return;
    const copies = this.chaos && this.random.next() < this.duplication ? 2 : 1;
    for (let copy = 0; copy < copies; copy++) {
      const slow = this.chaos && this.random.next() < 0.05;
      const delay = slow ? this.random.int(5, 60) : this.options.wan === true ? this.random.int(5, 40) : this.random.int(1, 3);
      this.queue.push(this.now + delay, { kind: 'deliver', to, life: null, message });
    }
  }

  private crash(id: ReplicaId): void {
    const replica = this.replica(id);
    if (replica.core === null) return;
    this.counts.crashes++;
    this.stopping.delete(id);
    const kept = replica.crash(this.random);
    if (kept !== null) this.durable(id, kept.ready, kept.recordsKept);
    this.holders.delete(id);
    this.serving.delete(id);
    if (this.chaos) this.queue.push(this.now + this.random.int(20, 400), { kind: 'restart', replica: id });
  }

  /** The process dies and its disk is lost; it comes back empty, rebuilding. */
  private wipe(id: ReplicaId): void {
    const replica = this.replica(id);
    // One lost disk at a time: a majority of intact disks is what Paxos needs to keep its choices.
    const othersVote = [...this.replicas.values()].every((r) => r.id === id || (r.core !== null && r.core.paxos.isVoter));
    if (!othersVote) return;
    this.crash(id);
    replica.wipe();
    this.checker.wiped(id);
    this.counts.wipes++;
  }

  /** Records below a margin under the durable checkpoint go, as retention compacts them. */
  private compact(replica: SimReplica): void {
    const through = replica.disk.checkpoint.state.committedInstance - this.random.int(2, 12);
    if (through > replica.disk.log.compactedInstance() && this.random.next() < 0.2) replica.disk.log.compactThrough(through);
  }

  /**
   * The driver's snapshot install: the peer's state at its committed instance (if it is up and
   * far enough), checked against the agreed log, then the core restarts on it in place.
   */
  private snapshot(event: Extract<SimEvent, { kind: 'snapshot' }>): void {
    const replica = this.replica(event.replica);
    const from = this.replica(event.from);
    if (replica.core === null || replica.life !== event.life || replica.persisting !== null) return;
    if (from.core === null || from.fsm === null || from.fsm.learnerState().committedInstance < event.instanceMin) return;
    const mine = replica.fsm?.learnerState().committedInstance ?? 0;
    if (from.fsm.learnerState().committedInstance <= mine) return;
    this.checker.snapshotInstalled(replica.id, { state: from.fsm.learnerState(), entries: from.fsm.entries });
    replica.installSnapshot(from);
    this.counts.snapshots++;
    const disk = replica.disk;
    replica.core.restartPaxos({ hardState: disk.stable.hardState(), learnerState: disk.checkpoint.state, store: disk.log });
    this.after(replica);
  }

  private restart(id: ReplicaId): void {
    const replica = this.replica(id);
    if (replica.core !== null) return;
    replica.start();
    this.queue.push(this.now + this.random.next() * simTickMs, { kind: 'tick', replica: id, life: replica.life });
    this.after(replica);
  }

  /** A clean stop: the holder (or a given replica) releases its lease, then its process exits. */
  private shutdown(id: ReplicaId | null): void {
    const target = id ?? [...this.holders][0] ?? this.pick();
    const replica = this.replica(target);
    if (replica.core === null) return;
    replica.core.release();
    this.after(replica);
    if (replica.persisting === null) this.crash(target);
    else this.stopping.add(target);
  }

  private partition(): void {
    this.counts.partitions++;
    const cut: Array<readonly [ReplicaId, ReplicaId]> = [];
    const isolated = this.random.next() < 0.5 && this.holders.size > 0 ? [...this.holders][0]! : this.pick();
    const oneWay = this.random.next() < 0.4;
    for (const other of this.peers) {
      if (other === isolated || (oneWay && this.random.next() < 0.5)) continue;
      cut.push([isolated, other]);
      if (!oneWay) cut.push([other, isolated]);
    }
    for (const [a, b] of cut) this.cut.add(`${a}>${b}`);
    this.queue.push(this.now + this.random.int(50, 1_500), { kind: 'heal', cut });
  }

  /** Forces a replica to run Paxos Phase 1 now, competing with whoever leads. */
  private contend(): void {
    const replica = this.replica(this.pick());
    if (replica.core === null) return;
    this.counts.contentions++;
    replica.core.paxos.campaign();
    this.after(replica);
  }

  private endChaos(): void {
    this.chaos = false;
    this.cut.clear();
    for (const id of this.peers) this.restart(id);
  }

  /** Failover mode: once a leader has served for a while, stop it; then time its successor. */
  private watchFailover(): void {
    const failover = this.failover;
    if (failover === null) return;
    if (failover.phase === 'waiting' && this.serving.size === 1 && this.now >= 3_000) {
      failover.phase = 'armed';
      this.queue.push(this.now + this.random.int(0, 300), { kind: 'failover' });
    } else if (failover.phase === 'measuring' && [...this.serving].some((id) => id !== failover.from)) {
      failover.ms = this.now - failover.faultAt;
    }
  }

  private fault(): void {
    const failover = this.failover;
    const leader = [...this.serving][0];
    if (failover === null || leader === undefined) throw new Violation('failover armed without a serving leader');
    failover.phase = 'measuring';
    failover.faultAt = this.now;
    failover.from = leader;
    if (this.options.failover === 'release') this.shutdown(leader);
    else this.crash(leader);
  }

  private clientNext(client: number): void {
    if (this.requests.length >= this.clientRequestsMax || (!this.chaos && this.failover === null)) return;
    const request = this.requests.length;
    const entries: Entry[] = [];
    const count = this.random.int(1, 3);
    for (let k = 0; k < count; k++) {
      const id = `c${client}-r${request}-e${k}`;
      const payload = `payload ${id}`;
      this.checker.proposedEntry(id, payload);
      entries.push({ id, data: new TextEncoder().encode(payload) });
    }
    this.requests.push({ entries, attempt: 0, target: this.pick(), done: false });
    this.dispatch(request);
    this.queue.push(this.now + this.random.int(5, 40), { kind: 'client', client });
  }

  private dispatch(request: number): void {
    const state = this.requests[request]!;
    state.attempt++;
    this.queue.push(this.now + this.random.int(1, 3), { kind: 'request', to: state.target, request });
    this.queue.push(this.now + 300, { kind: 'timeout', request, attempt: state.attempt });
  }

  private request(to: ReplicaId, request: number): void {
    const replica = this.replica(to);
    const state = this.requests[request]!;
    if (replica.core === null || state.done || (this.chaos && this.random.next() < this.loss)) return;
    const proposalId = replica.core.propose(state.entries, { timestampMs: Math.round(this.now) });
    this.waiting.set(`${to}:${replica.life}:${proposalId}`, request);
    this.after(replica);
  }

  /** No answer to this attempt: retry, with the same entry ids, at a random replica. */
  private timeout(request: number, attempt: number): void {
    const state = this.requests[request]!;
    if (state.done || state.attempt !== attempt) return;
    state.target = this.pick();
    this.dispatch(request);
  }

  private reply(request: number, outcome: ProposalOutcome): void {
    const state = this.requests[request]!;
    if (state.done) return;
    if (outcome.status === 'committed') {
      state.done = true;
      outcome.results.forEach((result, k) => {
        if (result.status === 'conflict') throw new Violation('an unconditional entry was refused as a conflict');
        this.checker.acknowledged(state.entries[k]!.id!, result.offset);
      });
      return;
    }
    const backoff = outcome.leaderHint === null ? this.random.int(5, 50) : this.random.int(1, 3);
    state.target = outcome.leaderHint ?? this.pick();
    state.attempt++;
    const attempt = state.attempt;
    this.queue.push(this.now + backoff, { kind: 'request', to: state.target, request });
    this.queue.push(this.now + backoff + 300, { kind: 'timeout', request, attempt });
  }
}

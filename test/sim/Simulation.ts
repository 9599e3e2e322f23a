import { InvariantError } from '../../src/log/assert.js';
import type { ReplicaId } from '../../src/log/ballot.js';
import type { Ready } from '../../src/log/Effects.js';
import type { PaxosMessage } from '../../src/log/messages.js';
import { MultiPaxos, type MultiPaxosOptions } from '../../src/log/MultiPaxos.js';
import { SeededRandom } from '../../src/log/random.js';
import type { Entry, ProposalOutcome } from '../../src/log/types.js';
import { Checker, Violation } from './Checker.js';
import { EventQueue } from './EventQueue.js';
import { type CoreFactory, SimReplica } from './SimReplica.js';

export interface SimOptions {
  readonly seed: number;
  readonly replicas?: number;
  readonly makeCore?: CoreFactory;
  /** Simulated milliseconds of faults; then the network heals and every replica is up. */
  readonly chaosMs?: number;
  /** After healing, every client request must commit within this many simulated ms. */
  readonly livenessBoundMs?: number;
  /** Dueling proposers: a forced campaign every 10-60 ms through the chaos. */
  readonly duel?: boolean;
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
}

type SimEvent =
  | { kind: 'deliver'; to: ReplicaId; life: number | null; message: PaxosMessage }
  | { kind: 'tick'; replica: ReplicaId }
  | { kind: 'persisted'; replica: ReplicaId; life: number }
  | { kind: 'crash'; replica: ReplicaId }
  | { kind: 'restart'; replica: ReplicaId }
  | { kind: 'partition' }
  | { kind: 'heal'; cut: ReadonlyArray<readonly [ReplicaId, ReplicaId]> }
  | { kind: 'contend' }
  | { kind: 'client'; client: number }
  | { kind: 'request'; to: ReplicaId; client: number; request: number }
  | { kind: 'reply'; client: number; request: number; outcome: ProposalOutcome }
  | { kind: 'timeout'; client: number; request: number; attempt: number }
  | { kind: 'endChaos' };

const tickMs = 10;

interface ClientRequest {
  readonly entries: Entry[];
  attempt: number;
  target: ReplicaId;
  done: boolean;
}

/**
 * One seeded run of a whole cluster: the network loses, duplicates, delays and reorders
 * messages and partitions links; replicas crash and restart; several proposers contend. After
 * the chaos the faults heal, and every client request must commit within the liveness bound.
 */
export class Simulation {
  private readonly random: SeededRandom;
  private readonly queue = new EventQueue<SimEvent>();
  private readonly replicas = new Map<ReplicaId, SimReplica>();
  private readonly peers: ReplicaId[];
  private readonly checker: Checker;
  private readonly cut = new Set<string>();
  private readonly requests: ClientRequest[] = [];
  private readonly waiting = new Map<string, { client: number; request: number }>();
  private now = 0;
  private chaos = true;
  private events = 0;
  private readonly counts = { crashes: 0, partitions: 0, contentions: 0 };
  private readonly loss: number;
  private readonly duplication: number;
  private readonly chaosMs: number;
  private readonly livenessBoundMs: number;
  private readonly clientCount = 3;
  private readonly clientRequestsMax: number;
  private clientRequestsMade = 0;

  constructor(private readonly options: SimOptions) {
    this.random = new SeededRandom(options.seed);
    const size = options.replicas ?? (options.seed % 2 === 0 ? 3 : 5);
    this.peers = Array.from({ length: size }, (_, i) => i + 1);
    this.checker = new Checker(Math.floor(size / 2) + 1);
    this.loss = this.random.next() * 0.15;
    this.duplication = this.random.next() * 0.05;
    this.chaosMs = options.chaosMs ?? 2_000;
    this.livenessBoundMs = options.livenessBoundMs ?? 5_000;
    this.clientRequestsMax = this.random.int(20, 60);
    const makeCore = options.makeCore ?? ((o: MultiPaxosOptions) => new MultiPaxos(o));
    const limits = { inflightInstancesMax: this.random.int(1, 8), promiseRecordsMax: 8, fetchInstancesMax: 4, leaderSilenceTicksMin: 15, backoffTicksMax: 15 };
    for (const id of this.peers) {
      this.replicas.set(id, new SimReplica(id, {
        peers: this.peers, random: this.random.fork(), makeCore, limits, leadership: 'silence', dedupIdsMax: 100_000,
      }));
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
      simulatedMs: this.now,
      events: this.events,
      committedEntries: this.checker.committedEntries,
      acked: this.checker.stats.acked,
      ...this.counts,
    };
  }

  private setUp(): void {
    for (const replica of this.replicas.values()) {
      replica.start();
      this.checkPromise(replica);
      this.queue.push(this.random.int(0, tickMs - 1), { kind: 'tick', replica: replica.id });
    }
    for (let client = 0; client < this.clientCount; client++) this.queue.push(this.random.int(0, 50), { kind: 'client', client });
    for (let at = this.random.int(50, 400); at < this.chaosMs; at += this.random.int(100, 600)) {
      const roll = this.random.next();
      this.queue.push(at, roll < 0.4 ? { kind: 'crash', replica: this.pick() } : roll < 0.75 ? { kind: 'partition' } : { kind: 'contend' });
    }
    if (this.options.duel === true) {
      for (let at = this.random.int(10, 60); at < this.chaosMs; at += this.random.int(10, 60)) this.queue.push(at, { kind: 'contend' });
    }
    this.queue.push(this.chaosMs, { kind: 'endChaos' });
  }

  private loop(): void {
    const deadline = this.chaosMs + this.livenessBoundMs;
    for (;;) {
      if (!this.chaos && this.requests.length === this.clientRequestsMax && this.requests.every((r) => r.done)) return;
      const next = this.queue.pop();
      if (next === undefined) throw new Violation('the event queue ran dry');
      if (next.at > deadline) {
        const open = this.requests.filter((r) => !r.done).length;
        throw new Violation(`liveness: ${open} client requests still open ${this.livenessBoundMs} ms after the faults healed; ${this.describe()}`);
      }
      this.now = next.at;
      this.events++;
      this.handle(next.item);
    }
  }

  private handle(event: SimEvent): void {
    switch (event.kind) {
      case 'deliver': return this.deliver(event.to, event.life, event.message);
      case 'tick': return this.tick(event.replica);
      case 'persisted': return this.persisted(event.replica, event.life);
      case 'crash': return this.crash(event.replica);
      case 'restart': return this.restart(event.replica);
      case 'partition': return this.partition();
      case 'heal': for (const [a, b] of event.cut) this.cut.delete(`${a}>${b}`); return;
      case 'contend': return this.contend();
      case 'client': return this.clientNext(event.client);
      case 'request': return this.request(event.to, event.client, event.request);
      case 'reply': return this.reply(event.client, event.request, event.outcome);
      case 'timeout': return this.timeout(event.client, event.request, event.attempt);
      case 'endChaos': return this.endChaos();
    }
  }

  /** One line per replica, for a failure report. */
  private describe(): string {
    return [...this.replicas.values()]
      .map((r) => {
        if (r.core === null) return `r${r.id}: down`;
        const s = r.core.status();
        const ballot = s.ballot === null ? '-' : `${s.ballot.round}.${s.ballot.replica}`;
        return `r${r.id}: ${s.phase} ballot ${ballot} promised ${s.promised.round}.${s.promised.replica} committed ${s.committedInstance} accepted ${s.acceptedInstanceMax} leader ${s.leaderHint} inflight ${s.inflightInstances} queued ${s.queuedProposals}`;
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

  private tick(id: ReplicaId): void {
    this.queue.push(this.now + tickMs, { kind: 'tick', replica: id });
    const replica = this.replica(id);
    if (replica.core === null) return;
    replica.core.tick();
    this.drive(replica);
  }

  private deliver(to: ReplicaId, life: number | null, message: PaxosMessage): void {
    const replica = this.replica(to);
    if (replica.core === null || (life !== null && life !== replica.life)) return;
    replica.core.step(message);
    this.checkPromise(replica);
    this.drive(replica);
  }

  private checkPromise(replica: SimReplica): void {
    if (replica.core !== null) this.checker.promised(replica.id, replica.core.promised, replica.life);
  }

  /** The driver loop: one Ready at a time; its writes take a simulated fsync. */
  private drive(replica: SimReplica): void {
    const core = replica.core;
    if (core === null || replica.persisting !== null || !core.hasReady()) return;
    const ready = core.ready();
    replica.persisting = ready;
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
    replica.persisting = null;
    replica.core.advance();
    if (this.random.next() < 0.3) replica.checkpoint();
    this.drive(replica);
  }

  private durable(id: ReplicaId, ready: Ready, recordsKept: number): void {
    for (const record of ready.records.slice(0, recordsKept)) this.checker.durableRecord(id, record);
  }

  private apply(replica: SimReplica, ready: Ready): void {
    const fsm = replica.fsm;
    if (fsm === null) throw new Violation('replica up without a state machine');
    for (const batch of ready.committed) {
      this.checker.released(replica.id, batch, fsm.learnerState().committedInstance);
      fsm.apply(batch);
    }
    for (const outcome of ready.outcomes) {
      const key = `${replica.id}:${replica.life}:${outcome.proposalId}`;
      const who = this.waiting.get(key);
      if (who === undefined) continue;
      this.waiting.delete(key);
      this.toClient(who.client, who.request, outcome);
    }
  }

  private send(from: ReplicaId, to: ReplicaId, message: PaxosMessage): void {
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
      const delay = slow ? this.random.int(5, 60) : this.random.int(1, 3);
      this.queue.push(this.now + delay, { kind: 'deliver', to, life: null, message });
    }
  }

  private crash(id: ReplicaId): void {
    const replica = this.replica(id);
    if (replica.core === null) return;
    this.counts.crashes++;
    replica.crash(this.random, (ready, recordsKept) => this.durable(id, ready, recordsKept));
    this.queue.push(this.now + this.random.int(20, 400), { kind: 'restart', replica: id });
  }

  private restart(id: ReplicaId): void {
    const replica = this.replica(id);
    if (replica.core !== null) return;
    replica.start();
    this.checkPromise(replica);
    this.drive(replica);
  }

  private partition(): void {
    this.counts.partitions++;
    const cut: Array<readonly [ReplicaId, ReplicaId]> = [];
    const isolated = this.pick();
    const oneWay = this.random.next() < 0.4;
    for (const other of this.peers) {
      if (other === isolated || (oneWay && this.random.next() < 0.5)) continue;
      cut.push([isolated, other]);
      if (!oneWay) cut.push([other, isolated]);
    }
    for (const [a, b] of cut) this.cut.add(`${a}>${b}`);
    this.queue.push(this.now + this.random.int(50, 600), { kind: 'heal', cut });
  }

  /** Forces a replica to run Phase 1 now, competing with whoever leads. */
  private contend(): void {
    const replica = this.replica(this.pick());
    if (replica.core === null) return;
    this.counts.contentions++;
    replica.core.campaign();
    this.drive(replica);
  }

  private endChaos(): void {
    this.chaos = false;
    this.cut.clear();
    for (const id of this.peers) this.restart(id);
  }

  private clientNext(client: number): void {
    if (!this.chaos || this.clientRequestsMade >= this.clientRequestsMax) return;
    const request = this.clientRequestsMade++;
    const entries: Entry[] = [];
    const count = this.random.int(1, 3);
    for (let k = 0; k < count; k++) {
      const id = `c${client}-r${request}-e${k}`;
      const payload = `payload ${id}`;
      this.checker.proposedEntry(id, payload);
      entries.push({ id, data: new TextEncoder().encode(payload) });
    }
    this.requests.push({ entries, attempt: 0, target: this.pick(), done: false });
    this.dispatch(client, request);
    this.queue.push(this.now + this.random.int(5, 40), { kind: 'client', client });
  }

  private dispatch(client: number, request: number): void {
    const state = this.requests[request]!;
    state.attempt++;
    this.queue.push(this.now + this.random.int(1, 3), { kind: 'request', to: state.target, client, request });
    const timeoutMs = 300;
    this.queue.push(this.now + timeoutMs, { kind: 'timeout', client, request, attempt: state.attempt });
  }

  private request(to: ReplicaId, client: number, request: number): void {
    const replica = this.replica(to);
    const state = this.requests[request]!;
    if (replica.core === null || state.done || (this.chaos && this.random.next() < this.loss)) return;
    const proposalId = replica.core.propose(state.entries, { timestampMs: this.now });
    this.waiting.set(`${to}:${replica.life}:${proposalId}`, { client, request });
    this.drive(replica);
  }

  private toClient(client: number, request: number, outcome: ProposalOutcome): void {
    if (this.chaos && this.random.next() < this.loss) return;
    this.queue.push(this.now + this.random.int(1, 3), { kind: 'reply', client, request, outcome });
  }

  /** No answer to this attempt: retry, with the same entry ids, at a random replica. */
  private timeout(client: number, request: number, attempt: number): void {
    const state = this.requests[request]!;
    if (state.done || state.attempt !== attempt) return;
    state.target = this.pick();
    this.dispatch(client, request);
  }

  private reply(client: number, request: number, outcome: ProposalOutcome): void {
    const state = this.requests[request]!;
    if (state.done) return;
    if (outcome.status === 'committed') {
      state.done = true;
      outcome.results.forEach((result, k) => {
        if (result.status === 'conflict') throw new Violation(`unconditional entry refused as a conflict`);
        this.checker.acknowledged(state.entries[k]!.id!, result.offset);
      });
      return;
    }
    state.target = outcome.leaderHint ?? this.pick();
    this.dispatch(client, request);
  }
}

import { randomInt } from 'node:crypto';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Msg, NatsConnection, Subscription } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import { Subject, type Subscription as RxSubscription } from 'rxjs';
import type { ReplicaId } from '../log/ballot.js';
import type { CommittedBatch, Entry, ProposalId, ProposalOutcome } from '../log/types.js';
import { SeededRandom } from '../log/random.js';
import { isLeaseMessage } from '../election/messages.js';
import { Replica, type ReplicaMessage, type ReplicaReady } from '../replica/Replica.js';
import { SqliteLog } from '../storage/SqliteLog.js';
import { inOrder } from '../stream/inOrder.js';
import { peerSubject } from '../transport/subjects.js';
import { decodePeerBatch, encodePeerBatch } from '../transport/wire.js';
import { batchAppends } from './batchAppends.js';
import type { NodeConfig } from './config.js';
import { Counters } from './Counters.js';
import { ClientEndpoint } from './ClientEndpoint.js';
import type { PendingAppend } from './PendingAppend.js';
import { PlainEndpoint } from './PlainEndpoint.js';

/** Consensus messages one loop turn steps at most, so lease traffic and ticks are never far behind. */
const messagesPerTurnMax = 256;

export interface LogNodeOptions {
  readonly log: string;
  readonly config: NodeConfig;
  readonly nc: NatsConnection;
  readonly logger: Logger;
  /** A storage failure: the replica of this log must stop at once, answering nothing more. */
  readonly onFatal: (error: Error) => void;
}

/**
 * The driver of one log's replica. It feeds NATS messages and ticks into the pure Replica, then for
 * each Ready: persists it in one SQLite transaction (what piles up meanwhile goes into the next one:
 * group commit), sends its messages, releases its committed batches through the in-order learner
 * pipeline, and answers its clients.
 */
export class LogNode {
  readonly log: string;
  readonly counters = new Counters();
  private store: SqliteLog | null = null;
  private replica: Replica | null = null;
  /** Messages waiting for the loop, each with the monotonic time it arrived. */
  private readonly inbox: Array<{ message: ReplicaMessage; atMs: number }> = [];
  private readonly leaseInbox: Array<{ message: ReplicaMessage; atMs: number }> = [];
  private scheduled = false;
  private clockStartMs = 0;
  private ticksDone = 0;
  private timer: ReturnType<typeof setInterval> | null = null;
  private readonly natsSubscriptions: Subscription[] = [];
  private readonly appends$ = new Subject<PendingAppend>();
  private readonly committed$ = new Subject<CommittedBatch>();
  private readonly rxSubscriptions: RxSubscription[] = [];
  private readonly waiting = new Map<ProposalId, PendingAppend[]>();
  private readonly client: ClientEndpoint;
  private readonly plain: PlainEndpoint;
  /** A Ready whose outcomes went out and whose writes come next; no other Ready until it is done. */
  private readyInFlight = false;
  private stopping = false;
  private failed = false;

  constructor(private readonly options: LogNodeOptions) {
    this.log = options.log;
    const endpoint = {
      log: options.log,
      id: options.config.id,
      nc: options.nc,
      counters: this.counters,
      messageBytesMax: options.config.messageBytesMax,
      onAppend: (pending: PendingAppend) => this.appends$.next(pending),
      readPage: (page: Parameters<SqliteLog['readPage']>[0]) => this.requireStore().readPage(page),
    };
    this.client = new ClientEndpoint({ ...endpoint, status: () => this.status() });
    this.plain = new PlainEndpoint({ ...endpoint, park: (wait) => this.client.park(wait) });
  }

  get id(): ReplicaId {
    return this.options.config.id;
  }

  start(): void {
    const config = this.options.config;
    const store = SqliteLog.open({ path: join(config.dataDir, `${this.log}.sqlite`), dedupIdsMax: 100_000 });
    this.store = store;
    const learnerState = store.learnerState();
    this.replica = new Replica({
      id: config.id,
      peers: config.peers,
      epoch: store.epochNext(),
      hardState: store.hardState(),
      learnerState,
      store,
      random: new SeededRandom(randomInt(0x7fff_ffff)),
      paxosLimits: { inflightInstancesMax: config.inflightInstancesMax, batchEntriesMax: config.batchEntriesMax, batchBytesMax: config.batchBytesMax },
      leaseLimits: { leaseTicks: config.leaseTicks },
    });
    this.startPipelines(learnerState.committedInstance + 1);
    this.natsSubscriptions.push(
      this.options.nc.subscribe(peerSubject({ log: this.log, replica: config.id }), { callback: (error, msg) => this.onPeer(error, msg) }),
    );
    this.client.start();
    this.plain.start();
    this.clockStartMs = performance.now();
    this.timer = setInterval(() => this.schedule(), Math.max(1, Math.floor(config.tickMs / 2)));
    this.options.logger.info({ committedInstance: learnerState.committedInstance, offsetNext: learnerState.offsetNext }, 'replica started');
  }

  private startPipelines(instanceNext: number): void {
    const config = this.options.config;
    this.rxSubscriptions.push(
      this.appends$
        .pipe(batchAppends({ lingerMs: config.lingerMs, batchEntriesMax: config.batchEntriesMax, batchBytesMax: config.batchBytesMax, entries: (p) => p.entries.length, bytes: (p) => p.bytes }))
        .subscribe((batch) => this.propose(batch)),
      this.committed$
        .pipe(inOrder({ sequence: (batch) => batch.instance, next: instanceNext, heldMax: 0 }))
        .subscribe({
          next: (batch) => {
            this.plain.committed(batch);
            this.client.committed(batch.offsetNext);
          },
          error: (error: Error) => this.fatal(error),
        }),
    );
  }

  private requireStore(): SqliteLog {
    if (this.store === null) throw new Error(`log ${this.log} is not open`);
    return this.store;
  }

  private onPeer(error: Error | null, msg: Msg): void {
    if (error !== null || this.stopping) return;
    const decoded = decodePeerBatch(msg.data, { bytesMax: this.options.config.messageBytesMax });
    if (!decoded.ok) {
      this.counters.drop(`peer-${decoded.problem}`);
      this.options.logger.debug({ problem: decoded.problem, detail: decoded.detail }, 'dropped a peer message');
      return;
    }
    const batch = decoded.batch;
    if (batch.log !== this.log || batch.to !== this.id || !this.options.config.peers.includes(batch.from)) {
      this.counters.drop('peer-misaddressed');
      return;
    }
    const atMs = performance.now();
    for (const message of batch.messages) {
      if (message.from !== batch.from) {
        this.counters.drop('peer-misaddressed');
        continue;
      }
      (isLeaseMessage(message) ? this.leaseInbox : this.inbox).push({ message, atMs });
    }
    this.schedule();
  }

  private propose(batch: PendingAppend[]): void {
    const replica = this.replica;
    if (replica === null || this.stopping) {
      for (const pending of batch) pending.fail({ code: 'not-leader', message: 'the replica is stopping', leaderHint: null });
      return;
    }
    const entries: Entry[] = batch.flatMap((pending) => pending.entries);
    const proposalId = replica.propose(entries, { timestampMs: Date.now() });
    this.waiting.set(proposalId, batch);
    this.schedule();
  }

  schedule(): void {
    if (this.scheduled || this.failed) return;
    this.scheduled = true;
    setImmediate(() => this.drain());
  }

  /**
   * One turn of the loop: the ticks that are due, every queued input, then one Ready. Its outcomes
   * are answered at once: an outcome exists only for a batch already chosen, which is durable on a
   * majority. Its writes follow in the next turn, so those replies leave before the fsync; its
   * messages leave only after the writes.
   */
  private drain(): void {
    this.scheduled = false;
    const replica = this.replica;
    if (replica === null || this.failed || this.readyInFlight) return;
    // Lease messages first: they are cheap, need no write, and a lease must not wait behind a
    // backlog. Then a bounded slice of the rest, each after the ticks that were due when it
    // arrived, so a loop that fell behind does not time out rounds whose answers are already here.
    for (const { message } of this.leaseInbox.splice(0)) replica.step(message);
    const turn = this.inbox.splice(0, messagesPerTurnMax);
    for (const { message, atMs } of turn) {
      this.tickUntil(replica, atMs);
      replica.step(message);
    }
    this.tickUntil(replica, performance.now());
    if (this.inbox.length > 0 || this.leaseInbox.length > 0) this.schedule();
    const serving = replica.isServing && !this.stopping;
    this.client.serve(serving);
    this.plain.serve(serving);
    if (!replica.hasReady()) return;
    const ready = replica.ready();
    this.send(ready.leaseMessages);
    for (const outcome of ready.outcomes) this.answer(outcome);
    this.readyInFlight = true;
    setImmediate(() => this.complete(replica, ready));
  }

  private tickUntil(replica: Replica, nowMs: number): void {
    const ticksDue = Math.floor((nowMs - this.clockStartMs) / this.options.config.tickMs);
    if (ticksDue - this.ticksDone > 10) this.counters.add('loop-late');
    while (this.ticksDone < ticksDue) {
      replica.tick();
      this.ticksDone++;
    }
  }

  /** Persist, then send, release and advance; then the loop goes on. */
  private complete(replica: Replica, ready: ReplicaReady): void {
    this.readyInFlight = false;
    if (this.failed || this.replica !== replica) return;
    try {
      this.requireStore().persist(ready);
    } catch (error) {
      this.fatal(error as Error);
      return;
    }
    this.send(ready.messages);
    for (const batch of ready.committed) this.committed$.next(batch);
    for (const event of ready.leaseEvents) this.options.logger.info({ event }, 'lease');
    replica.advance();
    this.schedule();
  }

  /** Messages to this replica loop back into the inbox; the rest go out, one NATS message per peer. */
  private send(messages: ReadonlyArray<{ to: ReplicaId; message: ReplicaMessage }>): void {
    const byPeer = new Map<ReplicaId, ReplicaMessage[]>();
    for (const { to, message } of messages) {
      if (to === this.id) {
        (isLeaseMessage(message) ? this.leaseInbox : this.inbox).push({ message, atMs: performance.now() });
        continue;
      }
      const list = byPeer.get(to) ?? [];
      list.push(message);
      byPeer.set(to, list);
    }
    for (const [to, list] of byPeer) this.publishPeer(to, list);
  }

  /**
   * One NATS message per peer when it fits the server's max_payload, else halves of it. The core
   * bounds every single message (batches, promise pages, fetch replies) well below the limit; a
   * message that still cannot go out is lost, which the core survives, and is counted.
   */
  private publishPeer(to: ReplicaId, messages: ReplicaMessage[]): void {
    const bytes = encodePeerBatch({ v: 1, log: this.log, from: this.id, to, messages });
    const bytesMax = (this.options.nc.info?.max_payload ?? 1 << 20) - 1_024;
    if (bytes.byteLength > bytesMax && messages.length > 1) {
      const half = Math.ceil(messages.length / 2);
      this.publishPeer(to, messages.slice(0, half));
      this.publishPeer(to, messages.slice(half));
      return;
    }
    try {
      this.options.nc.publish(peerSubject({ log: this.log, replica: to }), bytes);
    } catch (error) {
      this.counters.drop('peer-send');
      this.options.logger.error({ err: error, to, bytes: bytes.byteLength }, 'a peer message could not be sent');
    }
  }

  private answer(outcome: ProposalOutcome): void {
    const batch = this.waiting.get(outcome.proposalId);
    if (batch === undefined) return;
    this.waiting.delete(outcome.proposalId);
    if (outcome.status === 'failed') {
      for (const pending of batch) pending.fail({ code: outcome.reason, message: `append ${outcome.reason}`, leaderHint: outcome.leaderHint });
      return;
    }
    let at = 0;
    for (const pending of batch) {
      pending.succeed(outcome.results.slice(at, at + pending.entries.length));
      at += pending.entries.length;
    }
  }

  status(): Record<string, unknown> {
    const replica = this.replica;
    if (replica === null) return { log: this.log, id: this.id, state: 'stopped' };
    const status = replica.status();
    const lease = status.lease;
    return {
      log: this.log,
      id: this.id,
      serving: replica.isServing,
      phase: status.phase,
      ballot: status.ballot,
      promised: status.promised,
      leaderHint: status.leaderHint,
      committedInstance: status.committedInstance,
      acceptedInstanceMax: status.acceptedInstanceMax,
      offsetNext: status.offsetNext,
      lease: lease === null ? null : { isHolder: lease.isHolder, holder: lease.holderKnown, msLeft: lease.ticksLeft * this.options.config.tickMs, acceptorSilent: lease.acceptorSilent },
      readWaiters: this.client.readWaiters,
      appendsWaiting: this.waiting.size,
      memoryRssBytes: process.memoryUsage.rss(),
      counters: this.counters.snapshot(),
    };
  }

  private fatal(error: Error): void {
    if (this.failed) return;
    this.failed = true;
    this.options.logger.fatal({ err: error }, 'replica stopped: a write or an invariant failed');
    this.close();
    this.options.onFatal(error);
  }

  /** A clean stop: release the lease, flush the release, fail what is still waiting, close storage. */
  async stop(): Promise<void> {
    if (this.stopping || this.failed) return;
    this.stopping = true;
    this.client.serve(false);
    this.plain.serve(false);
    this.replica?.release();
    await this.settle();
    await this.options.nc.flush().catch(() => undefined);
    for (const batch of this.waiting.values()) {
      for (const pending of batch) pending.fail({ code: 'not-leader', message: 'the replica is shutting down', leaderHint: null });
    }
    this.waiting.clear();
    this.close();
  }

  /** Runs the loop until nothing is left to persist or send (bounded: a stop must not hang). */
  private async settle(): Promise<void> {
    for (let turn = 0; turn < 100; turn++) {
      if (this.failed || this.replica === null) return;
      if (!this.readyInFlight && this.inbox.length === 0 && this.leaseInbox.length === 0 && !this.replica.hasReady()) return;
      this.drain();
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  private close(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    for (const subscription of this.natsSubscriptions.splice(0)) subscription.unsubscribe();
    this.client.stop();
    this.plain.stop();
    for (const subscription of this.rxSubscriptions.splice(0)) subscription.unsubscribe();
    this.appends$.complete();
    this.committed$.complete();
    this.store?.close();
    this.store = null;
    this.replica = null;
  }
}


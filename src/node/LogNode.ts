import { randomInt } from 'node:crypto';
import { renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Msg, NatsConnection, Subscription } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import { Subject, type Subscription as RxSubscription } from 'rxjs';
import { assert } from '../log/assert.js';
import type { ReplicaId } from '../log/ballot.js';
import type { SnapshotNeeded } from '../log/Effects.js';
import type { CommittedBatch, Entry, LearnerState, ProposalId, ProposalOutcome } from '../log/types.js';
import { pathSync } from '../snapshot/fsyncs.js';
import { retentionText } from '../snapshot/RetentionPolicy.js';
import { snapshotFetch } from '../snapshot/snapshotFetch.js';
import { SnapshotStore, type SnapshotManifest } from '../snapshot/SnapshotStore.js';
import { CatchUpProgress } from './CatchUpProgress.js';
import { crashPoint } from './crashPoint.js';
import { SnapshotEndpoint } from './SnapshotEndpoint.js';
import { SeededRandom } from '../log/random.js';
import { isLeaseMessage } from '../election/messages.js';
import { Replica, type ReplicaMessage, type ReplicaReady } from '../replica/Replica.js';
import { SqliteLog } from '../storage/SqliteLog.js';
import { inOrder } from '../stream/inOrder.js';
import { peerSubject } from '../transport/subjects.js';
import { decodePeerBatch, encodePeerBatches } from '../transport/wire.js';
import { batchAppends } from './batchAppends.js';
import { leaseLimitsOf, type NodeConfig, paxosLimitsOf, retentionOf } from './config.js';
import { Counters } from './Counters.js';
import { AppendAdmission } from './AppendAdmission.js';
import { ClientEndpoint } from './ClientEndpoint.js';
import type { PendingAppend } from './PendingAppend.js';
import { PlainEndpoint } from './PlainEndpoint.js';
import { ReadBudget } from './ReadBudget.js';
import { sendProblem } from './sendProblem.js';
import { takeTurn } from './takeTurn.js';

/** Consensus messages one loop turn steps at most, so lease traffic and ticks are never far behind. */
const messagesPerTurnMax = 256;
/**
 * Entries of the values those messages carry (accepts, log transfer, promise pages) that one turn
 * steps at most, past its first message; the rest wait, in order, for the next turn. Under a burst
 * of large appends a replica stepped 15 accepts of 4,096 entries at once, with their chosen marks,
 * and the leader read its socket no faster than it committed until nats-server cut it with the
 * requests unanswered (6 bursts of 9). With the bound the leader's own looped-back accepts wait
 * too, its window fills, and what it cannot take is refused as it is read (9 of 9 answered:
 * docs/BENCHMARKS.md, "Overload: a burst of large appends"). A producer's accepts (about 1,700
 * entries of 100 bytes) fit nine to a turn.
 */
const entriesPerTurnMax = 16_384;

export interface LogNodeOptions {
  readonly log: string;
  readonly config: NodeConfig;
  /** Client traffic: appends, reads, status, the plain subjects and the live tail. */
  readonly nc: NatsConnection;
  /**
   * Replica to replica traffic: consensus and lease messages, snapshot transfer. A connection of
   * its own, so a flood of client requests or replies, queued in the client connection's socket
   * and buffers, never delays a lease renewal behind it.
   */
  readonly peerNc: NatsConnection;
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
  /** The learner pipeline of the core now open; a snapshot install replaces it with the core. */
  private learnerSubscription: RxSubscription | null = null;
  private snapshots: SnapshotStore | null = null;
  private readonly snapshotEndpoint: SnapshotEndpoint;
  private readonly catchUp = new CatchUpProgress();
  /** A snapshot transfer or install under way: at most one at a time. */
  private snapshotting = false;
  /** The last snapshot this replica installed: its size and how long transfer and install took. */
  private snapshotLast: { name: string; bytes: number; ms: number } | null = null;
  private readonly waiting = new Map<ProposalId, PendingAppend[]>();
  /** The memory of the appends admitted and not yet answered (config.appendsPendingBytesMax). */
  private readonly appendAdmission: AppendAdmission;
  private readonly client: ClientEndpoint;
  private readonly plain: PlainEndpoint;
  /** A Ready whose outcomes went out and whose writes come next; no other Ready until it is done. */
  private readyInFlight = false;
  private stopping = false;
  private failed = false;

  constructor(private readonly options: LogNodeOptions) {
    this.log = options.log;
    this.appendAdmission = new AppendAdmission(options.config.appendsPendingBytesMax);
    const endpoint = {
      log: options.log,
      id: options.config.id,
      nc: options.nc,
      counters: this.counters,
      messageBytesMax: options.config.messageBytesMax,
      onAppend: (pending: PendingAppend) => this.appends$.next(pending),
      readPage: (page: Parameters<SqliteLog['readPage']>[0]) => this.requireStore().readPage(page),
      readBudget: new ReadBudget({ unitsPerSecondMax: options.config.readEntriesPerSecondMax, nowMs: () => performance.now() }),
      appendAdmission: this.appendAdmission,
    };
    this.client = new ClientEndpoint({ ...endpoint, status: () => this.status(), readPacked: (page) => this.requireStore().readPacked(page) });
    this.plain = new PlainEndpoint({ ...endpoint, park: (wait) => this.client.park(wait) });
    this.snapshotEndpoint = new SnapshotEndpoint({
      log: options.log,
      id: options.config.id,
      nc: options.peerNc,
      counters: this.counters,
      logger: options.logger,
      snapshots: () => this.requireSnapshots(),
      store: () => this.store,
    });
  }

  private get storePath(): string {
    return join(this.options.config.dataDir, `${this.log}.sqlite`);
  }

  private requireSnapshots(): SnapshotStore {
    if (this.snapshots === null) throw new Error(`log ${this.log} is not open`);
    return this.snapshots;
  }

  get id(): ReplicaId {
    return this.options.config.id;
  }

  start(): void {
    const config = this.options.config;
    // A snapshot install that a crash cut short, with any WAL beside it.
    for (const suffix of ['', '-wal', '-shm']) rmSync(`${this.storePath}.incoming${suffix}`, { force: true });
    this.snapshots = new SnapshotStore({ dir: join(config.dataDir, `${this.log}.snapshots`), keepMax: config.snapshotsKeepMax });
    this.clockStartMs = performance.now();
    const learnerState = this.openCore();
    this.rxSubscriptions.push(
      this.appends$
        .pipe(batchAppends({ lingerMs: config.lingerMs, batchEntriesMax: config.batchEntriesMax, batchBytesMax: config.batchBytesMax, entries: (p) => p.entries.length, bytes: (p) => p.bytes }))
        .subscribe((batch) => this.propose(batch)),
    );
    this.natsSubscriptions.push(
      this.options.peerNc.subscribe(peerSubject({ log: this.log, replica: config.id }), { callback: (error, msg) => this.onPeer(error, msg) }),
    );
    this.client.start();
    this.plain.start();
    this.snapshotEndpoint.start();
    this.timer = setInterval(() => this.onTimer(), Math.max(1, Math.floor(config.tickMs / 2)));
    this.options.logger.info({ committedInstance: learnerState.committedInstance, offsetNext: learnerState.offsetNext, retention: retentionText(retentionOf(config)) }, 'replica started');
  }

  /** Opens the store and a core on it, with its learner pipeline; returns where the learner starts. */
  private openCore(): LearnerState {
    const config = this.options.config;
    const store = this.openStore();
    const learnerState = store.learnerState();
    this.replica = new Replica({
      id: config.id,
      peers: config.peers,
      epoch: store.epochNext(),
      hardState: store.hardState(),
      learnerState,
      store,
      random: new SeededRandom(randomInt(0x7fff_ffff)),
      paxosLimits: paxosLimitsOf(config),
      leaseLimits: leaseLimitsOf(config),
    });
    this.startLearner(learnerState.committedInstance + 1);
    this.ticksDone = this.ticksAt(performance.now());
    return learnerState;
  }

  private openStore(): SqliteLog {
    const store = SqliteLog.open({ path: this.storePath, dedupIdsMax: 100_000, retention: retentionOf(this.options.config), cachedBytesMax: this.options.config.cacheBytesMax });
    this.store = store;
    return store;
  }

  /** The in-order learner pipeline, from `instanceNext` (again after a snapshot install). */
  private startLearner(instanceNext: number): void {
    this.learnerSubscription?.unsubscribe();
    this.learnerSubscription = this.committed$
      .pipe(inOrder({ sequence: (batch) => batch.instance, next: instanceNext, heldMax: 0 }))
      .subscribe({
        next: (batch) => {
          this.plain.committed(batch);
          this.client.committed(batch.offsetNext);
        },
        error: (error: Error) => this.fatal(error),
      });
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
   * One turn of the loop: the ticks that are due, every queued input, then one Ready. Its lease
   * messages, its early messages (see leavesEarly) and its outcomes leave at once: an outcome
   * exists only for a batch already chosen, which is durable on a majority. Its writes follow;
   * its other messages leave only after the writes.
   */
  private drain(): void {
    this.scheduled = false;
    const replica = this.replica;
    if (replica === null || this.failed || this.readyInFlight) return;
    // Lease messages first: they are cheap, need no write, and a lease must not wait behind a
    // backlog. Then a bounded slice of the rest, each after the ticks that were due when it
    // arrived, so a loop that fell behind does not time out rounds whose answers are already here.
    for (const { message } of this.leaseInbox.splice(0)) replica.step(message);
    const turn = takeTurn(this.inbox, { itemsMax: messagesPerTurnMax, entriesMax: entriesPerTurnMax, entries: ({ message }) => messageEntries(message) });
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
    this.send(ready.messagesEarly);
    for (const outcome of ready.outcomes) this.answer(outcome);
    this.readyInFlight = true;
    // What was just published sits in the NATS client's buffer until its flush, which it queued
    // as a microtask; a write queued behind it starts once those bytes are on the socket, so the
    // leader's accepts and the answers leave before the fsync. With nothing published, the write
    // goes now (a follower's accept path).
    const published = ready.leaseMessages.length + ready.messagesEarly.length + ready.outcomes.length > 0;
    if (published) queueMicrotask(() => this.complete(replica, ready));
    else this.complete(replica, ready);
  }

  /**
   * The clock: a turn of the loop when a tick is due. A turn with no tick due and no message
   * (those schedule their own) would change nothing, and with many hosted logs, half the timer's
   * wake-ups were such turns.
   */
  private onTimer(): void {
    if (this.ticksAt(performance.now()) > this.ticksDone) this.schedule();
  }

  /** Whole ticks of this replica's clock from its start to `nowMs`. */
  private ticksAt(nowMs: number): number {
    return Math.floor((nowMs - this.clockStartMs) / this.options.config.tickMs);
  }

  private tickUntil(replica: Replica, nowMs: number): void {
    const ticksDue = this.ticksAt(nowMs);
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
    const lastBatch = ready.committed[ready.committed.length - 1];
    if (lastBatch !== undefined) this.catchUp.observe(performance.now(), lastBatch.instance);
    for (const event of ready.leaseEvents) this.options.logger.info({ event }, 'lease');
    replica.advance();
    if (ready.snapshotNeeded !== null) this.catchUpBySnapshot(ready.snapshotNeeded);
    this.schedule();
  }

  /**
   * The instances this replica needs are compacted away at a peer: copy a snapshot at or beyond
   * them (from that peer first, then the others), install it, and let log transfer fetch the
   * tail. One transfer at a time; a failed one is tried again when the core asks again.
   */
  private catchUpBySnapshot(needed: SnapshotNeeded): void {
    if (this.snapshotting || this.stopping || this.failed) return;
    this.snapshotting = true;
    const startedMs = performance.now();
    const incoming = `${this.storePath}.incoming`;
    const peers = [needed.peer, ...this.options.config.peers.filter((id) => id !== needed.peer && id !== this.id)];
    this.catchUp.snapshotStarted({ source: needed.peer, instanceMin: needed.instanceMin });
    this.options.logger.info({ peer: needed.peer, instanceMin: needed.instanceMin }, 'catching up by snapshot');
    void snapshotFetch({
      nc: this.options.peerNc,
      log: this.log,
      peers,
      instanceMin: needed.instanceMin,
      path: incoming,
      openTimeoutMs: 120_000,
      chunkTimeoutMs: 10_000,
      onProgress: (progress) => this.catchUp.snapshotProgress(progress),
      onAttemptFailed: (peer, error) => this.options.logger.warn({ peer, err: error }, 'a snapshot transfer failed; trying the next replica'),
      isCancelled: () => this.stopping || this.failed,
    })
      .then((manifest) => this.installWhenIdle({ incoming, manifest, startedMs }))
      .catch((error: Error) => {
        this.options.logger.warn({ err: error }, 'no snapshot could be fetched; the core will ask again');
        rmSync(incoming, { force: true });
        this.catchUp.snapshotEnded();
        this.snapshotting = false;
      });
  }

  /** Installs between Readys, never while one is being persisted. */
  private installWhenIdle(options: { incoming: string; manifest: SnapshotManifest; startedMs: number }): void {
    if (this.readyInFlight) {
      setImmediate(() => this.installWhenIdle(options));
      return;
    }
    try {
      this.install(options);
      this.snapshotLast = { name: options.manifest.name, bytes: options.manifest.bytes, ms: Math.round(performance.now() - options.startedMs) };
    } catch (error) {
      this.fatal(error as Error);
    } finally {
      rmSync(options.incoming, { force: true });
      this.catchUp.snapshotEnded();
      this.snapshotting = false;
    }
  }

  /**
   * Replaces the store with the fetched snapshot, in place, without a process restart: the
   * snapshot is made this replica's own (its hard state, restart counter and the votes it cast
   * above the snapshot), fsynced, renamed over the store (atomic: a crash before leaves the old
   * store whole, after leaves the new one whole), and the Multi-Paxos core restarts on it while
   * the election goes on. Log transfer then fetches the tail.
   */
  private install(options: { incoming: string; manifest: SnapshotManifest }): void {
    const store = this.requireStore();
    const replica = this.replica;
    if (replica === null || this.stopping || this.failed || store.committedInstance >= options.manifest.instance) return;
    const above = { instanceFrom: options.manifest.instance + 1, instanceTo: Number.MAX_SAFE_INTEGER, recordsMax: Number.MAX_SAFE_INTEGER };
    const own = { hardState: store.hardState(), epoch: store.epoch(), records: store.records(above) };
    this.failWaiting('the replica is installing a snapshot');
    this.inbox.length = 0;
    store.close();
    this.store = null;
    const installed = SqliteLog.adoptSnapshot({ path: options.incoming, own });
    for (const path of [this.storePath, options.incoming]) assert(SqliteLog.walEmpty(path), `SQLite at ${path}: a WAL is left after its last close`);
    pathSync(options.incoming);
    crashPoint('snapshot-install-before-rename');
    renameSync(options.incoming, this.storePath);
    crashPoint('snapshot-install-after-rename');
    pathSync(this.options.config.dataDir);
    const reopened = this.openStore();
    const learnerState = reopened.learnerState();
    replica.restartPaxos({ hardState: reopened.hardState(), learnerState, store: reopened });
    this.startLearner(learnerState.committedInstance + 1);
    this.counters.add('snapshot.installed');
    this.client.committed(learnerState.offsetNext);
    this.options.logger.info({ ...installed, snapshot: options.manifest.name }, 'snapshot installed; fetching the tail');
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
    // Peers sent the same messages (a broadcast: the same objects in the same order) share one encoding.
    const groups: Array<{ recipients: ReplicaId[]; messages: ReplicaMessage[] }> = [];
    for (const [to, list] of byPeer) {
      const same = groups.find((group) => group.messages.length === list.length && group.messages.every((message, i) => message === list[i]));
      if (same === undefined) groups.push({ recipients: [to], messages: list });
      else same.recipients.push(to);
    }
    for (const { recipients, messages: list } of groups) this.publishPeers(recipients, list);
  }

  /**
   * One NATS message per peer when it fits the server's max_payload, else halves of it. The core
   * bounds every single message (batches, promise pages, fetch replies) well below the limit; a
   * message that still cannot go out is lost, which the core survives, and is counted.
   */
  private publishPeers(recipients: readonly ReplicaId[], messages: ReplicaMessage[]): void {
    const batches = encodePeerBatches({ v: 1, log: this.log, from: this.id, messages }, recipients);
    const bytesMax = (this.options.peerNc.info?.max_payload ?? 1 << 20) - 1_024;
    if ((batches[0]?.byteLength ?? 0) > bytesMax && messages.length > 1) {
      this.counters.add('peer-split');
      const half = Math.ceil(messages.length / 2);
      this.publishPeers(recipients, messages.slice(0, half));
      this.publishPeers(recipients, messages.slice(half));
      return;
    }
    recipients.forEach((to, i) => {
      const bytes = batches[i]!;
      const problem = sendProblem(() => this.options.peerNc.publish(peerSubject({ log: this.log, replica: to }), bytes));
      if (problem === null) return;
      this.counters.drop('peer-send');
      this.options.logger.error({ problem, to, bytes: bytes.byteLength }, 'a peer message could not be sent');
    });
  }

  /** Every append still waiting for its outcome fails with `not-leader`: safe to retry with its ids. */
  private failWaiting(message: string): void {
    for (const batch of this.waiting.values()) {
      for (const pending of batch) pending.fail({ code: 'not-leader', message, leaderHint: null });
    }
    this.waiting.clear();
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
    const store = this.requireStore();
    return {
      log: this.log,
      id: this.id,
      serving: replica.isServing,
      publishesTail: replica.isTailPublisher,
      phase: status.phase,
      ballot: status.ballot,
      promised: status.promised,
      leaderHint: status.leaderHint,
      committedInstance: status.committedInstance,
      acceptedInstanceMax: status.acceptedInstanceMax,
      offsetNext: status.offsetNext,
      rebuilding: status.rebuilding,
      horizonOffset: store.horizonOffset,
      compactedInstance: store.compactedInstance(),
      retention: retentionText(store.retention),
      catchUp: { ...this.catchUp.report({ committedInstance: status.committedInstance, chosenKnownMax: status.chosenKnownMax }), fetchPeer: status.fetchPeer },
      snapshotInstalledLast: this.snapshotLast,
      snapshots: this.snapshots?.list().map(({ name, instance, bytes, sha256 }) => ({ name, instance, bytes, sha256 })) ?? [],
      lease: lease === null ? null : { isHolder: lease.isHolder, holder: lease.holderKnown, msLeft: lease.ticksLeft * this.options.config.tickMs, acceptorSilent: lease.acceptorSilent },
      readWaiters: this.client.readWaiters,
      appendsWaiting: this.waiting.size,
      appendsPendingBytes: this.appendAdmission.bytes,
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
    this.plain.stopTail();
    this.replica?.release();
    await this.settle();
    await Promise.all([this.options.peerNc.flush(), this.options.nc.flush()]).catch(() => undefined);
    this.failWaiting('the replica is shutting down');
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
    this.snapshotEndpoint.stop();
    for (const subscription of this.rxSubscriptions.splice(0)) subscription.unsubscribe();
    this.learnerSubscription?.unsubscribe();
    this.learnerSubscription = null;
    this.appends$.complete();
    this.committed$.complete();
    this.store?.close();
    this.store = null;
    this.replica = null;
  }
}

/** The entries of the values a message carries: what stepping and writing it costs, roughly. */
function messageEntries(message: ReplicaMessage): number {
  switch (message.type) {
    case 'accept':
      return message.value.entries.length;
    case 'fetched':
      return message.values.reduce((sum, { value }) => sum + value.entries.length, 0);
    case 'promise':
      return message.records.reduce((sum, { value }) => sum + value.entries.length, 0);
    default:
      return 0;
  }
}

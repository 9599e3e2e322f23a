import type { Msg, NatsConnection, Subscription } from '@nats-io/transport-node';
import type { ReplicaId } from '../log/ballot.js';
import { type CommittedEntry, entryBytes, type PackedSegment } from '../log/types.js';
import { BeforeHorizonError } from '../storage/BeforeHorizonError.js';
import type { ReadReplyWire, ReadRequest } from '../transport/clientSchemas.js';
import {
  decodeAppendRequest,
  decodeReadRequest,
  decodeStatusRequest,
  encodeAppendReply,
  encodeReadReply,
  encodeStatusReply,
  errorReply,
  errorReplyFor,
  retentionReply,
} from '../transport/clientWire.js';
import { appendSubject, readSubject, statusSubject } from '../transport/subjects.js';
import { appendEntriesCount } from '../transport/appendEntriesCount.js';
import { PROTOCOL_VERSION } from '../transport/wire.js';
import type { Counters } from './Counters.js';
import { LeaderSubscription } from './LeaderSubscription.js';
import { type AppendAnswerer, type PendingAppend, RequestAppend } from './PendingAppend.js';
import type { ReadBudget } from './ReadBudget.js';
import { AppendAdmission } from './AppendAdmission.js';
import { AppendIntake } from './AppendIntake.js';
import { ReadWaiters } from './ReadWaiters.js';
import { sendProblem } from './sendProblem.js';

export type ReadPage = (options: { from: number; entriesMax: number; bytesMax: number; key?: string }) => { entries: CommittedEntry[]; offsetNext: number };
/** ReadPage's page in its stored form (SqliteLog.readPacked). */
export type ReadPacked = (options: { from: number; entriesMax: number; bytesMax: number; key?: string }) => { segments: PackedSegment[]; count: number; offsetNext: number };

/** What every client-facing endpoint of one log's replica is given. */
export interface EndpointOptions {
  readonly log: string;
  readonly id: ReplicaId;
  readonly nc: NatsConnection;
  readonly counters: Counters;
  readonly messageBytesMax: number;
  readonly onAppend: (pending: PendingAppend) => void;
  readonly readPage: ReadPage;
  /** Read work this log's replica takes on per second (shared by msgpack reads and plain replays). */
  readonly readBudget: ReadBudget;
  /** The appends this replica holds, within config.appendsPendingBytesMax (see AppendAdmission). */
  readonly appendAdmission: AppendAdmission;
}

export interface ClientEndpointOptions extends EndpointOptions {
  readonly status: () => Record<string, unknown>;
  readonly readPacked: ReadPacked;
}

/** Entries and bytes one read reply carries at most, whatever the request asks (under NATS's 1 MB). */
export const readEntriesMax = 4_096;
export const readBytesMax = 512 * 1024;
/** Long-poll reads one log's replica holds at once. */
export const readWaitersMax = 4_096;
/** The texts of the overloaded replies to reads, msgpack and plain alike. */
export const readBudgetRefusal = 'this replica is serving as many reads as it takes; try again shortly';
export const readWaitersRefusal = `${readWaitersMax} reads already wait for new entries here; try again shortly`;
/**
 * A plain replay's entry costs this many units of read work (ReadBudget), a msgpack read's one: a
 * NATS message each. The budget itself is config.readEntriesPerSecondMax (150,000 by default: a
 * stream still replays at about 200,000 entries/s from three replicas, and 3,000 reads of a full
 * page each cost a replica 1.1 s of CPU and 2 s of delay, against 5.4 s and 9.7 s at 250,000).
 */
export const plainReplayEntryUnits = 8;

/**
 * The decoding one turn of the event loop takes on at most, in bytes of requests plus
 * entryDecodeCost an entry (see AppendIntake): 3–5 ms here, about 9,000 entries of 100 bytes or
 * 15,000 empty ones (a request decodes at 0.3–0.4 µs an entry).
 */
export const appendsDecodeCostPerTurnMax = 2 << 20;
const entryDecodeCost = 128;

/** An append request admitted and not yet decoded, with the release of what admission holds for it. */
class AdmittedAppend {
  constructor(
    readonly msg: Msg,
    readonly release: () => void,
  ) {}
}

/**
 * The msgpack client subjects of one log on one replica. Appends are taken only while this replica
 * serves as leader (a queue group, so each request reaches one replica); reads and status are
 * answered by every replica. Every request is decoded and checked; a bad one gets an error reply
 * naming the problem, and the replica's state is untouched. A read that finds nothing committed
 * yet may wait (a long poll): that is how streams tail the log without the replica pushing.
 */
export class ClientEndpoint {
  private readonly subscriptions: Subscription[] = [];
  private readonly appends: LeaderSubscription;
  private readonly waiters = new ReadWaiters(readWaitersMax);
  private readonly answerer: AppendAnswerer;
  private readonly intake: AppendIntake<AdmittedAppend>;

  constructor(private readonly options: ClientEndpointOptions) {
    this.appends = new LeaderSubscription({ nc: options.nc, subject: appendSubject(options.log), log: options.log, onMessage: (msg) => this.onAppend(msg) });
    this.intake = new AppendIntake({ costPerTurnMax: appendsDecodeCostPerTurnMax, take: (admitted) => this.takeAppend(admitted) });
    this.answerer = {
      succeeded: (msg, results) => this.respond(msg, encodeAppendReply({ v: PROTOCOL_VERSION, ok: true, results })),
      failed: (msg, failure) => {
        this.options.counters.add(`refused.${failure.code}`);
        this.respond(msg, encodeAppendReply(errorReply(failure.code, failure.message, failure.leaderHint)));
      },
    };
  }

  start(): void {
    const { nc, log, id } = this.options;
    this.subscriptions.push(
      nc.subscribe(readSubject(log), { queue: `paxlog.${log}.read`, callback: (error, msg) => this.onRead(error, msg) }),
      nc.subscribe(`${readSubject(log)}.${id}`, { callback: (error, msg) => this.onRead(error, msg) }),
      nc.subscribe(statusSubject(log), { callback: (error, msg) => this.onStatus(error, msg) }),
    );
  }

  /** Parks a read until something commits at `from` (or `waitMs` passes); false when full. */
  park(options: { from: number; waitMs: number; answer: () => void }): boolean {
    return this.waiters.park(options);
  }

  get readWaiters(): number {
    return this.waiters.size;
  }

  /** Takes appends only while serving, so a plain NATS request reaches the leader. */
  serve(serving: boolean): void {
    this.appends.set(serving);
  }

  /** New entries are durable up to `offsetNext`: answer the reads waiting for them. */
  committed(offsetNext: number): void {
    this.waiters.wake(offsetNext);
  }

  private otherLog(log: string): string {
    return `unknown log ${log}: this subject serves log ${this.options.log}`;
  }

  private replyOverloaded(msg: Msg): void {
    this.reply(msg, encodeAppendReply(errorReply('overloaded', this.options.appendAdmission.refusal)), 'overloaded');
  }

  /**
   * An append request, read off the socket. Everything here is cheap, so a flood is answered as
   * fast as it arrives: a replica that no longer serves says not-leader, and admission refuses
   * what does not fit by its size and the entry count its array header gives (a request of tiny
   * entries takes far more memory decoded). The decode waits for the intake's turn.
   *
   * No named closures on a per-request path: run through tsx (esbuild's keepNames), each costs a
   * defineProperty call (__name) every time it is created. A closure in an object literal is
   * named after its property: an append waits as a RequestAppend, whose methods are on its class.
   */
  private onAppend(msg: Msg): void {
    if (!this.appends.serving) {
      this.replyNotLeader(msg);
      return;
    }
    const entries = appendEntriesCount(msg.data);
    const release = this.options.appendAdmission.admit(AppendAdmission.pendingBytes({ wireBytes: msg.data.byteLength, entries }));
    if (release === null) {
      this.replyOverloaded(msg);
      return;
    }
    this.intake.push(new AdmittedAppend(msg, release), msg.data.byteLength + entries * entryDecodeCost);
  }

  /** An admitted append's turn: decoded and checked, it joins the batches to propose. */
  private takeAppend(admitted: AdmittedAppend): void {
    const { msg, release } = admitted;
    if (!this.appends.serving) {
      release();
      this.replyNotLeader(msg);
      return;
    }
    const decoded = decodeAppendRequest(msg.data, { bytesMax: this.options.messageBytesMax });
    if (!decoded.ok) {
      release();
      this.reply(msg, encodeAppendReply(errorReplyFor(decoded)), decoded.problem);
      return;
    }
    if (decoded.request.log !== this.options.log) {
      release();
      this.reply(msg, encodeAppendReply(errorReply('unknown-log', this.otherLog(decoded.request.log))), 'unknown-log');
      return;
    }
    let bytes = 0;
    for (const entry of decoded.request.entries) bytes += entryBytes(entry);
    this.options.onAppend(new RequestAppend({ entries: decoded.request.entries, bytes, msg, release, answerer: this.answerer }));
  }

  private replyNotLeader(msg: Msg): void {
    this.reply(msg, encodeAppendReply(errorReply('not-leader', `replica ${this.options.id} does not lead log ${this.options.log} now`)), 'not-leader');
  }

  private onRead(error: Error | null, msg: Msg): void {
    if (error !== null) return;
    const decoded = decodeReadRequest(msg.data, { bytesMax: this.options.messageBytesMax });
    if (!decoded.ok) {
      this.reply(msg, encodeReadReply(errorReplyFor(decoded)), decoded.problem);
      return;
    }
    const request = decoded.request;
    if (request.log !== this.options.log) {
      this.reply(msg, encodeReadReply(errorReply('unknown-log', this.otherLog(request.log))), 'unknown-log');
      return;
    }
    if (!this.options.readBudget.admits()) {
      this.reply(msg, encodeReadReply(errorReply('overloaded', readBudgetRefusal)), 'read-budget');
      return;
    }
    const reply = this.readReply(request);
    const waitMs = request.waitMs ?? 0;
    if (!reply.ok || replyHoldsEntries(reply) || reply.offsetNext > request.from || waitMs === 0) {
      if (!reply.ok) this.options.counters.add(`refused.${reply.error.code}`);
      this.respond(msg, encodeReadReply(reply));
      return;
    }
    if (!this.waiters.park({ from: request.from, waitMs, answer: () => this.respond(msg, encodeReadReply(this.readReply(request))) })) {
      // Not an empty page: a stream would ask again at once, and many would spin. `overloaded`
      // makes the client back off.
      this.options.counters.add('refused.read-waiters-full');
      this.respond(msg, encodeReadReply(errorReply('overloaded', readWaitersRefusal)));
    }
  }

  /**
   * A page, or the retention error when `from` is below the horizon: never a silent partial page.
   * A packed read gets the same entries in their stored form.
   */
  private readReply(request: ReadRequest): ReadReplyWire {
    const bounds = {
      from: request.from,
      entriesMax: Math.min(request.limit, readEntriesMax),
      bytesMax: readBytesMax,
      ...(request.key === undefined ? {} : { key: request.key }),
    };
    try {
      if (request.packed === true) {
        const { segments, count, offsetNext } = this.options.readPacked(bounds);
        this.options.readBudget.spend(count);
        return { v: PROTOCOL_VERSION, ok: true, packed: segments, offsetNext };
      }
      const page = this.options.readPage(bounds);
      this.options.readBudget.spend(page.entries.length);
      return { v: PROTOCOL_VERSION, ok: true, ...page };
    } catch (error) {
      if (error instanceof BeforeHorizonError) return retentionReply({ from: request.from, offsetFirst: error.offsetFirst });
      throw error;
    }
  }

  private onStatus(error: Error | null, msg: Msg): void {
    if (error !== null) return;
    const decoded = decodeStatusRequest(msg.data, { bytesMax: this.options.messageBytesMax });
    if (!decoded.ok) {
      this.reply(msg, encodeStatusReply(errorReplyFor(decoded)), decoded.problem);
      return;
    }
    if (decoded.request.log !== this.options.log) {
      this.reply(msg, encodeStatusReply(errorReply('unknown-log', this.otherLog(decoded.request.log))), 'unknown-log');
      return;
    }
    this.respond(msg, encodeStatusReply({ v: PROTOCOL_VERSION, ok: true, status: this.options.status() }));
  }

  /** An error reply to a bad request, or a count when the request has no reply subject. */
  private reply(msg: Msg, bytes: Uint8Array, problem: string): void {
    this.options.counters.add(`refused.${problem}`);
    if (!this.respond(msg, bytes)) this.options.counters.drop(`request-${problem}`);
  }

  /**
   * Sends a reply; never throws. A reply NATS refuses (over the server's max_payload, or the
   * connection closing) is counted, and the requester gets a short error reply in its place when
   * that can go: a throw here would end nats.js's reader, or, from a woken long poll, the process.
   */
  private respond(msg: Msg, bytes: Uint8Array): boolean {
    if (msg.reply === undefined || msg.reply === '') return false;
    const problem = sendProblem(() => msg.respond(bytes));
    if (problem === null) return true;
    this.options.counters.drop('reply-send');
    const fallback = errorReply('too-large', `the reply (${bytes.byteLength} bytes) could not be sent: ${problem}`);
    sendProblem(() => msg.respond(encodeReadReply(fallback)));
    return false;
  }

  stop(): void {
    this.serve(false);
    for (const { msg, release } of this.intake.drain()) {
      release();
      this.replyNotLeader(msg);
    }
    this.waiters.drain();
    for (const subscription of this.subscriptions.splice(0)) subscription.unsubscribe();
  }
}

function replyHoldsEntries(reply: ReadReplyWire & { ok: true }): boolean {
  return 'packed' in reply ? reply.packed.length > 0 : reply.entries.length > 0;
}

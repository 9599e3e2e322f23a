import type { Msg, NatsConnection, Subscription } from '@nats-io/transport-node';
import type { ReplicaId } from '../log/ballot.js';
import { type CommittedBatch, type CommittedEntry, type Entry, entryBytes, type EntryResult } from '../log/types.js';
import type { ErrorCode } from '../transport/clientSchemas.js';
import {
  decodeAppendRequest,
  decodeReadRequest,
  decodeStatusRequest,
  encodeAppendReply,
  encodeReadReply,
  encodeStatusReply,
  errorReply,
  errorReplyFor,
} from '../transport/clientWire.js';
import { appendSubject, readSubject, statusSubject } from '../transport/subjects.js';
import { PROTOCOL_VERSION } from '../transport/wire.js';
import type { Counters } from './Counters.js';

/** An append request waiting for its batch's outcome. */
export interface PendingAppend {
  readonly msg: Msg;
  readonly entries: readonly Entry[];
  readonly bytes: number;
}

export interface ClientEndpointOptions {
  readonly log: string;
  readonly id: ReplicaId;
  readonly nc: NatsConnection;
  readonly counters: Counters;
  readonly messageBytesMax: number;
  readonly onAppend: (pending: PendingAppend) => void;
  readonly read: (request: { from: number; limit: number }) => CommittedEntry[];
  readonly status: () => Record<string, unknown>;
}

/** Most entries a read reply carries, whatever the request asks. */
export const readEntriesMax = 4_096;

/**
 * The client-facing subjects of one log on one replica. Appends are taken only while this replica
 * serves as leader (a queue group, so each request reaches one replica); reads and status are
 * answered by every replica. Every request is decoded and checked; a bad one gets an error reply
 * naming the problem, and the replica's state is untouched.
 */
export class ClientEndpoint {
  private readonly subscriptions: Subscription[] = [];
  private appendSubscription: Subscription | null = null;
  private offsetCommitted = 0;

  constructor(private readonly options: ClientEndpointOptions) {}

  start(): void {
    const { nc, log, id } = this.options;
    this.subscriptions.push(
      nc.subscribe(readSubject(log), { queue: `paxlog.${log}.read`, callback: (error, msg) => this.onRead(error, msg) }),
      nc.subscribe(`${readSubject(log)}.${id}`, { callback: (error, msg) => this.onRead(error, msg) }),
      nc.subscribe(statusSubject(log), { callback: (error, msg) => this.onStatus(error, msg) }),
    );
  }

  /** Takes appends only while serving, so a plain NATS request reaches the leader. */
  serve(serving: boolean): void {
    if (serving && this.appendSubscription === null) {
      this.appendSubscription = this.options.nc.subscribe(appendSubject(this.options.log), {
        queue: `paxlog.${this.options.log}.leader`,
        callback: (error, msg) => this.onAppend(error, msg),
      });
    } else if (!serving && this.appendSubscription !== null) {
      this.appendSubscription.unsubscribe();
      this.appendSubscription = null;
    }
  }

  /** The in-order learner pipeline hands over every committed batch, strictly in instance order. */
  committed(batch: CommittedBatch): void {
    this.offsetCommitted = batch.offsetNext;
  }

  get offsetNext(): number {
    return this.offsetCommitted;
  }

  private otherLog(log: string): string {
    return `unknown log ${log}: this subject serves log ${this.options.log}`;
  }

  private onAppend(error: Error | null, msg: Msg): void {
    if (error !== null) return;
    const decoded = decodeAppendRequest(msg.data, { bytesMax: this.options.messageBytesMax });
    if (!decoded.ok) {
      this.reply(msg, encodeAppendReply(errorReplyFor(decoded)), decoded.problem);
      return;
    }
    if (decoded.request.log !== this.options.log) {
      this.reply(msg, encodeAppendReply(errorReply('unknown-log', this.otherLog(decoded.request.log))), 'unknown-log');
      return;
    }
    let bytes = 0;
    for (const entry of decoded.request.entries) bytes += entryBytes(entry);
    this.options.onAppend({ msg, entries: decoded.request.entries, bytes });
  }

  succeed(pending: PendingAppend, results: readonly EntryResult[]): void {
    this.respond(pending.msg, encodeAppendReply({ v: PROTOCOL_VERSION, ok: true, results }));
  }

  fail(pending: PendingAppend, failure: { code: ErrorCode; message: string; leaderHint: ReplicaId | null }): void {
    this.options.counters.add(`refused.${failure.code}`);
    this.respond(pending.msg, encodeAppendReply(errorReply(failure.code, failure.message, failure.leaderHint)));
  }

  private onRead(error: Error | null, msg: Msg): void {
    if (error !== null) return;
    const decoded = decodeReadRequest(msg.data, { bytesMax: this.options.messageBytesMax });
    if (!decoded.ok) {
      this.reply(msg, encodeReadReply(errorReplyFor(decoded)), decoded.problem);
      return;
    }
    if (decoded.request.log !== this.options.log) {
      this.reply(msg, encodeReadReply(errorReply('unknown-log', this.otherLog(decoded.request.log))), 'unknown-log');
      return;
    }
    const limit = Math.min(decoded.request.limit, readEntriesMax);
    const entries = this.options.read({ from: decoded.request.from, limit });
    const offsetNext = entries.length === 0 ? decoded.request.from : entries[entries.length - 1]!.offset + 1;
    this.respond(msg, encodeReadReply({ v: PROTOCOL_VERSION, ok: true, entries, offsetNext }));
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

  private respond(msg: Msg, bytes: Uint8Array): boolean {
    if (msg.reply === undefined || msg.reply === '') return false;
    msg.respond(bytes);
    return true;
  }

  stop(): void {
    this.serve(false);
    for (const subscription of this.subscriptions.splice(0)) subscription.unsubscribe();
  }
}

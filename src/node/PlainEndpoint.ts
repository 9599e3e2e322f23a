import { headers, type Msg, type MsgHdrs, type Subscription } from '@nats-io/transport-node';
import { type CommittedBatch, type CommittedEntry, type Entry, type EntryResult, entryBytes } from '../log/types.js';
import { BeforeHorizonError } from '../storage/BeforeHorizonError.js';
import { appendEntryProblem, keyPattern } from '../transport/clientSchemas.js';
import { clientIdProblem } from '../transport/schemas.js';
import { plainHeaders as H } from '../transport/plainHeaders.js';
import { type EntryFrame, publishFrames } from '../transport/entryFrames.js';
import { entriesSubject, publishSubject, replaySubject } from '../transport/subjects.js';
import { wireLimits } from '../transport/wireLimits.js';
import { AppendAdmission } from './AppendAdmission.js';
import type { EndpointOptions, ReadPage } from './ClientEndpoint.js';
import { plainReplayEntryUnits, readBudgetRefusal, readBytesMax, readEntriesMax, readWaitersRefusal } from './ClientEndpoint.js';
import { LeaderSubscription } from './LeaderSubscription.js';
import { type AppendAnswerer, type AppendFailure, RequestAppend } from './PendingAppend.js';
import { sendProblem } from './sendProblem.js';
import { TailPublisher } from './TailPublisher.js';

export interface PlainEndpointOptions extends EndpointOptions {
  /** Parks a replay until something commits at its offset. */
  readonly park: (options: { from: number; waitMs: number; answer: () => void }) => boolean;
}

const encoder = new TextEncoder();

/** Entries the tail publisher publishes per turn of the event loop: about 5 ms of publishing. */
const tailEntriesPerTurnMax = 1_024;
/** Entries waiting for the tail (references to committed batches, which the read cache holds too). */
const tailQueuedEntriesMax = 1 << 18;

/**
 * The key an entry is published under (its subject's last tokens and its Paxlog-Key header), or
 * undefined for none: a key passed keyPattern where it was appended, and one that did not (from
 * before that check, through a peer) is published as none rather than as a broken subject.
 */
function publishedKey(entry: CommittedEntry): string | undefined {
  return entry.key !== undefined && keyPattern.test(entry.key) ? entry.key : undefined;
}

/**
 * A committed entry as the live tail and a replay publish it, on `subject`, with `key` from
 * publishedKey. An id that no header can carry unchanged (appended before clientIdProblem was
 * checked) is left out rather than altered: this must never throw, nor write a broken header, for
 * what a log holds.
 */
export function entryFrame(entry: CommittedEntry, subject: string, key: string | undefined = publishedKey(entry)): EntryFrame {
  const id = entry.id !== undefined && clientIdProblem(entry.id) === null ? entry.id : undefined;
  return { subject, offset: entry.offset, timestampMs: entry.timestampMs, id, key, data: entry.data };
}

/** A message as a header value: on one line (nats.js refuses a line break in a header). */
function headerText(message: string): string {
  return message.replace(/[\r\n]+/g, ' ');
}

/**
 * paxlog for any NATS client, without paxlog's code or msgpack: appends are plain requests whose
 * body is the entry and whose headers carry id, key and expected offset; replay answers with one
 * message per entry; and one replica, a follower the leader names, publishes every committed entry
 * on a per-key subject.
 */
export class PlainEndpoint {
  private readonly subscriptions: Subscription[] = [];
  private readonly publishes: LeaderSubscription;
  private readonly tail: TailPublisher;
  private readonly answerer: AppendAnswerer;

  constructor(private readonly options: PlainEndpointOptions) {
    this.answerer = { succeeded: (msg, results) => this.answerResult(msg, results[0]), failed: (msg, failure) => this.answerError(msg, failure) };
    this.publishes = new LeaderSubscription({ nc: options.nc, subject: publishSubject(options.log), log: options.log, onMessage: (msg) => this.onPublish(msg) });
    this.tail = new TailPublisher({
      publish: (entries) => this.publishEntries(entries, (key) => entriesSubject(this.options.log, key)),
      counters: options.counters,
      entriesPerTurnMax: tailEntriesPerTurnMax,
      queuedEntriesMax: tailQueuedEntriesMax,
    });
  }

  start(): void {
    const { nc, log } = this.options;
    this.subscriptions.push(nc.subscribe(replaySubject(log), { queue: `paxlog.${log}.replay`, callback: (error, msg) => this.onReplay(error, msg) }));
  }

  serve(serving: boolean): void {
    this.publishes.set(serving);
  }

  /**
   * Each entry of a batch the core marked for the live tail (the leader named this replica when
   * it learned the batch) is published on its key's subject, a slice per turn (TailPublisher).
   */
  committed(batch: CommittedBatch): void {
    this.tail.committed(batch);
  }

  private onPublish(msg: Msg): void {
    const parsed = this.parsePublish(msg);
    if (typeof parsed === 'string') {
      this.answerError(msg, { code: parsed.startsWith('too-large') ? 'too-large' : 'schema', message: parsed, leaderHint: null });
      return;
    }
    const release = this.options.appendAdmission.admit(AppendAdmission.pendingBytes({ wireBytes: msg.data.byteLength, entries: 1 }));
    if (release === null) {
      this.answerError(msg, { code: 'overloaded', message: this.options.appendAdmission.refusal, leaderHint: null });
      return;
    }
    this.options.onAppend(new RequestAppend({ entries: [parsed], bytes: entryBytes(parsed), msg, release, answerer: this.answerer }));
  }

  /** Answers a committed plain append: its offset in a header and a JSON body, or its conflict. */
  private answerResult(msg: Msg, result: EntryResult | undefined): void {
    if (result === undefined) return;
    if (result.status === 'conflict') {
      this.answerError(msg, { code: 'conflict', message: `expected offset is stale: the next offset is ${result.offsetNext}`, leaderHint: null }, result.offsetNext);
      return;
    }
    const h = headers();
    h.set(H.offset, String(result.offset));
    if (result.status === 'duplicate') h.set(H.duplicate, 'true');
    const body = encoder.encode(JSON.stringify({ offset: result.offset, duplicate: result.status === 'duplicate' }));
    if (sendProblem(() => msg.respond(body, { headers: h })) !== null) this.options.counters.drop('plain-send');
  }

  /** The entry a plain publish carries, or what is wrong with it. */
  private parsePublish(msg: Msg): Entry | string {
    if (msg.data.byteLength > this.options.messageBytesMax) return `too-large: ${msg.data.byteLength} bytes, the limit is ${this.options.messageBytesMax}`;
    const id = msg.headers?.get(H.id) || undefined;
    const key = msg.headers?.get(H.key) || undefined;
    const expected = msg.headers?.get(H.expectedOffset) || undefined;
    const problem = appendEntryProblem({ ...(id === undefined ? {} : { id }), ...(key === undefined ? {} : { key }) });
    if (problem !== null) return `${H.id} or ${H.key}: ${problem}`;
    if (expected !== undefined && !/^\d{1,15}$/.test(expected)) return `${H.expectedOffset} must be a non-negative integer`;
    const entry: { data: Uint8Array; id?: string; key?: string; expectedOffset?: number } = { data: msg.data };
    if (id !== undefined) entry.id = id;
    if (key !== undefined) entry.key = key;
    if (expected !== undefined) entry.expectedOffset = Number(expected);
    return entry;
  }

  private answerError(msg: Msg, failure: AppendFailure | { code: 'conflict'; message: string; leaderHint: null }, offsetNext?: number): void {
    this.options.counters.add(`refused.${failure.code}`);
    if (msg.reply === undefined || msg.reply === '') return;
    const h = headers();
    h.set(H.errorCode, failure.code);
    h.set(H.error, headerText(failure.message));
    if (failure.leaderHint !== null) h.set(H.leaderHint, String(failure.leaderHint));
    if (offsetNext !== undefined) h.set(H.offsetNext, String(offsetNext));
    const body = { error: { code: failure.code, message: failure.message, ...(offsetNext === undefined ? {} : { offsetNext }) } };
    if (sendProblem(() => msg.respond(encoder.encode(JSON.stringify(body)), { headers: h })) !== null) this.options.counters.drop('plain-send');
  }

  /** Answers with up to Paxlog-Limit entries from Paxlog-From, one message each, then the end marker. */
  private onReplay(error: Error | null, msg: Msg): void {
    if (error !== null || msg.reply === undefined || msg.reply === '') return;
    // nats.js answers "" for a header that is not there: absent means the default.
    const from = Number(msg.headers?.get(H.from) || '0');
    const limit = Number(msg.headers?.get(H.limit) || String(readEntriesMax));
    const key = msg.headers?.get(H.key) || undefined;
    if (!Number.isSafeInteger(from) || from < 0 || !Number.isSafeInteger(limit) || limit < 1) {
      this.replayEnd(msg.reply, { errorCode: 'schema', error: `${H.from} and ${H.limit} must be integers, ${H.from} >= 0 and ${H.limit} >= 1` });
      return;
    }
    const keyProblem = key === undefined ? null : appendEntryProblem({ key });
    if (keyProblem !== null) {
      this.replayEnd(msg.reply, { errorCode: 'schema', error: `${H.key}: ${keyProblem}` });
      return;
    }
    if (!this.options.readBudget.admits()) {
      this.options.counters.add('refused.read-budget');
      this.replayEnd(msg.reply, { errorCode: 'overloaded', error: readBudgetRefusal });
      return;
    }
    const waitMs = Math.min(Number(msg.headers?.get(H.waitMs) || '0') || 0, wireLimits.waitMsMax);
    const reply = msg.reply;
    const answer = () => this.replayPage(reply, { from, limit, key });
    const page = this.readOrEnd(reply, { from, entriesMax: 1, bytesMax: 1, ...(key === undefined ? {} : { key }) });
    if (page === null) return;
    if (page.entries.length > 0 || page.offsetNext > from || waitMs === 0) {
      answer();
      return;
    }
    if (this.options.park({ from, waitMs, answer })) return;
    this.options.counters.add('refused.read-waiters-full');
    this.replayEnd(reply, { errorCode: 'overloaded', error: readWaitersRefusal });
  }

  private replayPage(reply: string, options: { from: number; limit: number; key: string | undefined }): void {
    const { from, limit, key } = options;
    const page = this.readOrEnd(reply, { from, entriesMax: Math.min(limit, readEntriesMax), bytesMax: readBytesMax, ...(key === undefined ? {} : { key }) });
    if (page === null) return; // retention moved past `from` while this read waited
    this.options.readBudget.spend(page.entries.length * plainReplayEntryUnits);
    this.publishEntries(page.entries, () => reply);
    this.replayEnd(reply, { offsetNext: page.offsetNext });
  }

  /** A page, or null after ending the replay with the retention error when `from` is below the horizon. */
  private readOrEnd(reply: string, page: Parameters<ReadPage>[0]): ReturnType<ReadPage> | null {
    try {
      return this.options.readPage(page);
    } catch (error) {
      if (!(error instanceof BeforeHorizonError)) throw error;
      this.replayEnd(reply, { errorCode: 'retention', error: error.message, offsetFirst: error.offsetFirst });
      return null;
    }
  }

  private replayEnd(reply: string, end: { offsetNext?: number; errorCode?: string; error?: string; offsetFirst?: number }): void {
    const h: MsgHdrs = headers();
    h.set(H.end, 'true');
    if (end.offsetNext !== undefined) h.set(H.offsetNext, String(end.offsetNext));
    if (end.errorCode !== undefined) h.set(H.errorCode, end.errorCode);
    if (end.error !== undefined) h.set(H.error, headerText(end.error));
    if (end.offsetFirst !== undefined) h.set(H.offsetFirst, String(end.offsetFirst));
    this.publish(reply, new Uint8Array(), h);
  }

  /**
   * Publishes; never throws (a throw would end nats.js's reader, or the learner's loop). What NATS
   * refuses (an entry over the server's max_payload with its headers, a closing connection) is
   * counted: a plain subscriber sees the gap in Paxlog-Offset, a plain replay the missing entry.
   */
  private publish(subject: string, data: Uint8Array, h: MsgHdrs): void {
    if (sendProblem(() => this.options.nc.publish(subject, data, { headers: h })) !== null) this.options.counters.drop('plain-send');
  }

  /**
   * Publishes committed entries, each on `subjectOf` its published key (entryFrame), as
   * one write (publishFrames); what NATS would refuse is counted, like publish().
   */
  private publishEntries(entries: readonly CommittedEntry[], subjectOf: (key: string | undefined) => string): void {
    const frames = entries.map((entry) => {
      const key = publishedKey(entry);
      return entryFrame(entry, subjectOf(key), key);
    });
    const { refused } = publishFrames(this.options.nc, frames);
    if (refused > 0) this.options.counters.drop('plain-send', refused);
  }

  /** Publishes nothing more on the live tail (a stopping replica), not even what waits. */
  stopTail(): void {
    this.tail.stop();
  }

  stop(): void {
    this.serve(false);
    this.stopTail();
    for (const subscription of this.subscriptions.splice(0)) subscription.unsubscribe();
  }
}

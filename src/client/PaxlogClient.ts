import { connect, type NatsConnection, nuid } from '@nats-io/transport-node';
import { type NatsAccess, natsAccessOptions } from '../transport/natsAccess.js';
import { Observable } from 'rxjs';
import type { ReplicaId } from '../log/ballot.js';
import type { CommittedEntry, Entry, EntryResult } from '../log/types.js';
import {
  decodeAppendReply,
  decodeReadReply,
  decodeStatusReply,
  encodeAppendRequest,
  encodeReadRequest,
  encodeStatusRequest,
} from '../transport/clientWire.js';
import type { ReadRequest } from '../transport/clientSchemas.js';
import { appendSubject, readSubject, statusSubject } from '../transport/subjects.js';
import { PROTOCOL_VERSION } from '../transport/wire.js';
import { ConflictError, errorFor, NoLeaderError, PaxlogError, TimeoutError } from './errors.js';
import { Producer, type ProducerOptions } from './Producer.js';
import { RequestMux } from './RequestMux.js';
import { EntryIterator, type StreamEntry, streamEntryOf } from './EntryIterator.js';

export type { StreamEntry } from './EntryIterator.js';

export { ConflictError, NoLeaderError, PaxlogError, PayloadTooLargeError, RequestError, RetentionError, TimeoutError } from './errors.js';

/** The most pages a stream asks ahead, whatever its options say. */
const pagesAheadLimit = 8;
/** Pages asked ahead by default: enough to keep every replica of the read queue group busy at once. */
const pagesAheadDefault = 5;
/** A page at least this long (or as long as asked) means the stream is replaying, not tailing. */
const replayPageEntriesMin = 1_024;
/** The longest pause before asking again after empty pages in a row (see entries()). */
const emptyPageSleepMsMax = 250;
/**
 * How long a read of an offset this client has already seen committed may wait at a replica that
 * has not learned it yet (read-your-writes; see read()).
 */
export const seenReadWaitMs = 2_000;

export interface StreamOptions {
  /** The first offset wanted. */
  readonly from: number;
  /** Only entries with this key; offsets then skip the others. */
  readonly key?: string;
  /** Read from this replica only (by default: any replica). */
  readonly replica?: ReplicaId;
  /** Entries asked for per request. */
  readonly pageEntriesMax?: number;
  /**
   * Pages requested ahead of the consumer (default 5, at most 8; 1 with `key`). The stream's
   * credit is pagesAheadMax pages: the stream holds at most that many plus the one being yielded.
   */
  readonly pagesAheadMax?: number;
  /** How long a caught-up read waits for new entries before it asks again. */
  readonly waitMs?: number;
}

export interface AppendOptions {
  readonly key?: string;
  /** Makes retries idempotent; generated when absent. */
  readonly id?: string;
  /** The entry commits only if it lands exactly at this offset (optimistic concurrency). */
  readonly expectedOffset?: number;
  readonly timeoutMs?: number;
}

/** Server answers worth another try: the leader may be changing, or the connection coming back. */
const retriable = new Set<string>(['not-leader', 'superseded', 'overloaded', 'timeout']);
const replyBytesMax = 64 << 20;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * The paxlog client, over plain NATS request/reply. Appends retry across leader changes and
 * reconnects until their deadline, safely because every entry carries an id. Streams replay from
 * storage in pages, then continue live, with contiguous offsets.
 */
export class PaxlogClient {
  private constructor(
    readonly nc: NatsConnection,
    readonly log: string,
    /** What close() releases: the connection and the request inbox, the inbox only, or nothing (forLog). */
    private readonly owns: 'connection' | 'inbox' | 'nothing',
    private readonly requests: RequestMux,
  ) {}

  /** One past the highest offset this client saw committed in this log: by its appends and its reads. */
  private offsetNextSeen = 0;

  private seen(offsetNext: number): void {
    if (offsetNext > this.offsetNextSeen) this.offsetNextSeen = offsetNext;
  }

  /**
   * Connects to NATS and uses `log`. `servers` is one URL or several, comma-separated, and may
   * carry a user and password or a token; the file options reach servers that require a creds
   * file, an NKey or TLS (see NatsAccess). `connectTimeoutMs` bounds the first connection (nats.js
   * waits 20 s by default). The client owns this connection: close() drains it.
   */
  static async connect(options: { servers: string; log: string; name?: string; connectTimeoutMs?: number } & Omit<NatsAccess, 'url'>): Promise<PaxlogClient> {
    const access = natsAccessOptions({ ...options, url: options.servers });
    const timeout = options.connectTimeoutMs === undefined ? {} : { timeout: options.connectTimeoutMs };
    // noAsyncTraces: nats.js would otherwise build two Error objects (stack traces) per request,
    // which cost a third of the client's CPU at 256 appends in flight.
    const nc = await connect({ ...access, ...timeout, name: options.name ?? 'paxlog-client', maxReconnectAttempts: -1, reconnectTimeWait: 100, noAsyncTraces: true });
    return new PaxlogClient(nc, options.log, 'connection', new RequestMux(nc));
  }

  /**
   * A client over a NATS connection the caller made (with whatever authentication it needs) and
   * keeps: close() releases what the client holds but leaves the connection open.
   */
  static over(nc: NatsConnection, options: { log: string }): PaxlogClient {
    return new PaxlogClient(nc, options.log, 'inbox', new RequestMux(nc));
  }

  /** A client for another log over the same connection. */
  forLog(log: string): PaxlogClient {
    return new PaxlogClient(this.nc, log, 'nothing', this.requests);
  }

  /** Appends one entry; resolves with its offset (the original one if the id was committed before). */
  async append(data: Uint8Array, options: AppendOptions = {}): Promise<{ offset: number; duplicate: boolean }> {
    const entry: { data: Uint8Array; id: string; key?: string; expectedOffset?: number } = { data, id: options.id ?? nuid.next() };
    if (options.key !== undefined) entry.key = options.key;
    if (options.expectedOffset !== undefined) entry.expectedOffset = options.expectedOffset;
    const [result] = await this.appendEntries([entry], options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs });
    if (result === undefined) throw new PaxlogError('internal', 'no result for the entry');
    if (result.status === 'conflict') throw new ConflictError(`expected offset ${options.expectedOffset} is stale: the next offset is ${result.offsetNext}`, result.offsetNext);
    return { offset: result.offset, duplicate: result.status === 'duplicate' };
  }

  /** Appends entries as one batch (decided together); one result per entry. */
  async appendEntries(entries: readonly Entry[], options: { timeoutMs?: number; attemptMs?: number } = {}): Promise<EntryResult[]> {
    const deadline = Date.now() + (options.timeoutMs ?? 30_000);
    const body = encodeAppendRequest({ v: PROTOCOL_VERSION, log: this.log, entries });
    let last: PaxlogError | null = null; // built only when needed: an Error's stack trace is costly
    for (let attempt = 0; Date.now() < deadline; attempt++) {
      try {
        const msg = await this.requests.request(appendSubject(this.log), body, { timeoutMs: Math.min(options.attemptMs ?? 5_000, Math.max(1, deadline - Date.now())) });
        const decoded = decodeAppendReply(msg.data, { bytesMax: replyBytesMax });
        if (!decoded.ok) throw new PaxlogError(decoded.problem, `bad reply: ${decoded.detail}`);
        if (decoded.reply.ok) {
          for (const result of decoded.reply.results) this.seen(result.status === 'conflict' ? result.offsetNext : result.offset + 1);
          return [...decoded.reply.results];
        }
        const { code, message, leaderHint } = decoded.reply.error;
        last = errorFor(code, message, leaderHint ?? null);
        if (!retriable.has(code)) throw last;
      } catch (error) {
        if (error instanceof PaxlogError && !retriable.has(error.code)) throw error;
        if (this.requests.isClosed) throw new PaxlogError('closed', 'the client is closed');
        if (!(error instanceof PaxlogError)) last = new NoLeaderError('no-leader', `no leader answered: ${(error as Error).message}`);
      }
      await sleep(Math.min(200, 5 * 2 ** Math.min(attempt, 6)));
    }
    throw last ?? new TimeoutError('timeout', 'append timed out');
  }

  /** A batching producer: many appends share one request; each caller gets its own result. */
  producer(options: ProducerOptions = {}): Producer {
    return new Producer({ ...options, send: (entries) => this.appendEntries(entries) });
  }

  /**
   * A page of committed entries from `from`, from any replica or from one. Any replica may answer,
   * and a follower learns of a commit a moment after the leader answered its append; so a read from
   * below an offset this client has already seen committed (by its own append, or an earlier read)
   * waits up to `seenReadWaitMs` at a replica that has not learned it yet, unless `waitMs` says
   * otherwise. A client therefore reads its own writes.
   */
  async read(options: { from: number; limit: number; key?: string; replica?: ReplicaId; waitMs?: number; timeoutMs?: number }): Promise<{ entries: CommittedEntry[]; offsetNext: number }> {
    const subject = options.replica === undefined ? readSubject(this.log) : `${readSubject(this.log)}.${options.replica}`;
    const waitMs = options.waitMs ?? (options.from < this.offsetNextSeen ? seenReadWaitMs : undefined);
    const request: ReadRequest = {
      v: PROTOCOL_VERSION,
      log: this.log,
      from: options.from,
      limit: options.limit,
      ...(options.key === undefined ? {} : { key: options.key }),
      ...(waitMs === undefined ? {} : { waitMs }),
      // Entries in their stored form: the replica copies them out as they are (docs/PROTOCOL.md).
      packed: true,
    };
    const timeout = options.timeoutMs ?? (waitMs ?? 0) + 5_000;
    const msg = await this.requests.request(subject, encodeReadRequest(request), { timeoutMs: timeout });
    const decoded = decodeReadReply(msg.data, { bytesMax: replyBytesMax });
    if (!decoded.ok) throw new PaxlogError(decoded.problem, `bad reply: ${decoded.detail}`);
    if (!decoded.reply.ok) {
      const { code, message, offsetFirst } = decoded.reply.error;
      throw errorFor(code, message, null, offsetFirst);
    }
    this.seen(decoded.reply.offsetNext);
    return { entries: [...decoded.reply.entries], offsetNext: decoded.reply.offsetNext };
  }

  /**
   * Committed entries from `from` on, forever: pages replayed from storage, then a live tail by
   * long polls. Up to `pagesAheadMax` pages are requested ahead, each from where the one before is
   * predicted to end; a prediction that proves wrong is dropped and asked again, and offsets are
   * checked on every page: never a gap, never a duplicate. Reads retry through leader changes,
   * reconnects and replica restarts. `break` releases everything.
   */
  entries(options: StreamOptions): AsyncGenerator<StreamEntry, void, undefined> {
    return new EntryIterator(this.pages(options));
  }

  /** entries() a page at a time (what a read answered, after its offsets were checked). */
  private async *pages(options: StreamOptions): AsyncGenerator<readonly CommittedEntry[], void, undefined> {
    const limit = options.pageEntriesMax ?? 4_096;
    const waitMs = options.waitMs ?? 5_000;
    const aheadMax = options.key === undefined ? Math.max(1, Math.min(pagesAheadLimit, options.pagesAheadMax ?? pagesAheadDefault)) : 1;
    const ask = (request: { from: number; limit: number; waitMs: number }) => {
      const page = this.readRetrying({ ...options, ...request });
      page.catch(() => undefined); // a page still in flight when the consumer stops
      return { ...request, page, askedAtMs: performance.now() };
    };
    let next = options.from;
    const ahead = [ask({ from: next, limit, waitMs })];
    let emptyPages = 0;
    for (;;) {
      const head = ahead.shift()!;
      if (head.from !== next) {
        ahead.length = 0; // every later prediction rests on this wrong one
        ahead.push(ask({ from: next, limit, waitMs }));
        continue;
      }
      const page = await head.page;
      for (const entry of page.entries) {
        const contiguous = options.key === undefined ? entry.offset === next : entry.offset >= next;
        if (!contiguous) throw new PaxlogError('internal', `stream expected offset ${next}, got ${entry.offset}`);
        next = entry.offset + 1;
      }
      if (page.offsetNext < next) throw new PaxlogError('internal', `stream went back from ${next} to ${page.offsetNext}`);
      next = page.offsetNext;
      // An empty page long before its wait ran out comes from a replica that could not wait (one
      // stopping, say): from the second in a row on, pause a little longer each time, so a tail
      // never spins against it. A long poll that ran its course asks again at once.
      const quick = page.entries.length === 0 && performance.now() - head.askedAtMs < head.waitMs / 2;
      emptyPages = quick ? emptyPages + 1 : 0;
      if (emptyPages > 1) await sleep(Math.min(emptyPageSleepMsMax, 5 * 2 ** Math.min(emptyPages, 8)));
      // Ask ahead while replaying (a page cut short by a bound); a live tail's small pages ask one at a time.
      const replaying = page.entries.length >= Math.min(limit, replayPageEntriesMin);
      this.askAhead({ ahead, aheadMax: replaying ? aheadMax : 1, from: next, stride: Math.max(1, page.entries.length), ask, waitMs });
      if (page.entries.length > 0) yield page.entries;
    }
  }

  /** Tops up the pages asked ahead; only the first may wait for new entries, the rest answer at once. */
  private askAhead<T extends { from: number; limit: number }>(options: {
    ahead: T[];
    aheadMax: number;
    from: number;
    stride: number;
    waitMs: number;
    ask: (request: { from: number; limit: number; waitMs: number }) => T;
  }): void {
    const { ahead, stride } = options;
    while (ahead.length < options.aheadMax) {
      const last = ahead[ahead.length - 1];
      const from = last === undefined ? options.from : last.from + last.limit;
      ahead.push(options.ask({ from, limit: stride, waitMs: ahead.length === 0 ? options.waitMs : 0 }));
    }
  }

  /** `entries()` as an RxJS Observable; unsubscribing stops the reads. */
  stream(options: StreamOptions): Observable<StreamEntry> {
    return new Observable<StreamEntry>((subscriber) => {
      const pages = this.pages(options);
      let stopped = false;
      void (async () => {
        try {
          for (let item = await pages.next(); !item.done && !stopped; item = await pages.next()) {
            for (const entry of item.value) {
              if (stopped) break;
              subscriber.next(streamEntryOf(entry));
            }
          }
        } catch (error) {
          if (!stopped) subscriber.error(error);
        }
      })();
      return () => {
        stopped = true;
        void pages.return(undefined);
      };
    });
  }

  private async readRetrying(options: StreamOptions & { from: number; limit: number; waitMs: number }): Promise<{ entries: CommittedEntry[]; offsetNext: number }> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.read({
          from: options.from,
          limit: options.limit,
          waitMs: options.waitMs,
          ...(options.key === undefined ? {} : { key: options.key }),
          ...(options.replica === undefined ? {} : { replica: options.replica }),
        });
      } catch (error) {
        if (error instanceof PaxlogError && !retriable.has(error.code)) throw error;
        if (this.requests.isClosed) throw new PaxlogError('closed', 'the client is closed');
        await sleep(Math.min(500, 10 * 2 ** Math.min(attempt, 6)));
      }
    }
  }

  /** Every replica's status, gathered for `waitMs`; empty when no replica answers. */
  async status(options: { waitMs?: number } = {}): Promise<Array<Record<string, unknown>>> {
    if (this.requests.isClosed) throw new PaxlogError('closed', 'the client is closed');
    const statuses: Array<Record<string, unknown>> = [];
    try {
      const replies = await this.nc.requestMany(statusSubject(this.log), encodeStatusRequest({ v: PROTOCOL_VERSION, log: this.log }), {
        maxWait: options.waitMs ?? 300,
      });
      for await (const msg of replies) {
        const decoded = decodeStatusReply(msg.data, { bytesMax: replyBytesMax });
        if (decoded.ok && decoded.reply.ok) statuses.push({ ...decoded.reply.status });
      }
    } catch (error) {
      if (this.nc.isClosed() || !/no responders/i.test((error as Error).message)) throw error;
    }
    return statuses.sort((a, b) => Number(a['id']) - Number(b['id']));
  }

  async close(): Promise<void> {
    if (this.owns === 'nothing') return;
    this.requests.close();
    if (this.owns === 'connection') await this.nc.drain().catch(() => this.nc.close());
  }
}

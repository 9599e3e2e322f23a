import Database from 'better-sqlite3';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { randomInt } from 'node:crypto';
import { dirname } from 'node:path';
import { assert, fail } from '../log/assert.js';
import { ballotCompare, ballotText, ballotZero, incarnationsMax, incarnationValid } from '../log/ballot.js';
import type { Ready } from '../log/Effects.js';
import type { LogStoreReader } from '../log/storage.js';
import { type CommittedBatch, type CommittedEntry, committedEntryBytes, type HardState, type InstanceRecord, type LearnerState, type PackedSegment, type Value } from '../log/types.js';
import { tupleKey } from '../transport/entryTuples.js';
import { retentionIsBounded, retentionKeepAll, type RetentionPolicy } from '../snapshot/RetentionPolicy.js';
import { BatchCache, type DecodedBatch } from './BatchCache.js';
import { batchChecksum, blobChecksum, checksumVerify, dedupChecksum, metaChecksum, recordChecksum } from './checksum.js';
import { BeforeHorizonError } from './BeforeHorizonError.js';
import { CorruptionError } from './CorruptionError.js';
import { pragmasApply, schemaVersion, tablesCreate } from './schema.js';
import { PackedPage } from './PackedPage.js';
import { committedEntriesDecode, valueDecode, valueEncode, valueTupleStarts } from './valueCodec.js';

/** The writes of one Ready (ReplicaReady fits): persisted together in one transaction. */
export type PersistInput = Pick<Ready, 'hardState' | 'records' | 'committed' | 'mustSync'>;

const metaKey = {
  schemaVersion: 'schema_version',
  epoch: 'epoch',
  promisedRound: 'promised_round',
  promisedReplica: 'promised_replica',
  promisedIncarnation: 'promised_incarnation',
  incarnation: 'incarnation',
  roundMax: 'round_max',
  committedInstance: 'committed_instance',
  offsetNext: 'offset_next',
  timestampLastMs: 'timestamp_last_ms',
  bytesTotal: 'bytes_total',
  horizonOffset: 'horizon_offset',
  compactedInstance: 'compacted_instance',
  rebuilding: 'rebuilding',
} as const;

/** Where a store file stands. */
export interface StoreDescription {
  readonly committedInstance: number;
  readonly offsetNext: number;
  readonly horizonOffset: number;
  readonly compactedInstance: number;
}

/** The learner's position as of the last durable commit. */
interface Cursor {
  readonly committedInstance: number;
  readonly offsetNext: number;
  readonly timestampLastMs: number;
  /** Entry bytes (data) committed since the log began, retained or not. */
  readonly bytesTotal: number;
  /** The first offset retention keeps: every entry below it is gone. */
  readonly horizonOffset: number;
  /** Every instance up to this one is gone from the records: only a snapshot holds it now. */
  readonly compactedInstance: number;
}

interface MetaRow {
  readonly value: number;
  readonly checksum: number;
}

interface RecordRow {
  readonly instance: number;
  readonly ballot_round: number;
  readonly ballot_replica: number;
  readonly ballot_incarnation: number;
  readonly chosen: number;
  readonly value_id: string;
  readonly value_checksum: number;
  readonly checksum: number;
  readonly value: Buffer;
}

/** A page's bounds: from `from`, at most `entriesMax` entries and `bytesMax` bytes; with `key`, that key's only, scanning at most `scanMax` offsets. */
export interface ReadPageOptions {
  readonly from: number;
  readonly entriesMax: number;
  readonly bytesMax: number;
  readonly key?: string;
  readonly scanMax?: number;
}

interface BatchRow {
  readonly instance: number;
  readonly offset_first: number;
  readonly offset_next: number;
  readonly bytes_before: number;
  readonly timestamp_ms: number;
  readonly skipped: Buffer | null;
  readonly checksum: number;
}

const batchColumns = 'instance, offset_first, offset_next, bytes_before, timestamp_ms, skipped, checksum';

/** Batch rows one read query fetches at a time, whether scanning forward (replay) or back (dedup). */
const batchesPerQueryMax = 16;

/**
 * Decoded batches kept for reads, in bytes of memory (see BatchCache): about 100,000 entries of
 * 100 bytes, so a stream that replays the recent log or tails it reads no SQLite page.
 */
const cachedBytesMaxDefault = 64 << 20;

interface DedupRow {
  readonly offset: number;
  readonly id: string;
  readonly checksum: number;
}

const recordColumns = 'instance, ballot_round, ballot_replica, ballot_incarnation, chosen, value_id, value_checksum, checksum, value';

/** The meta table's statements: its columns are the same in every schema, so a migration uses them too. */
function metaStatementsPrepare(db: Database.Database) {
  return {
    metaGet: db.prepare<[string], MetaRow>('SELECT value, checksum FROM meta WHERE key = ?'),
    metaPut: db.prepare<[string, number, number]>(
      'INSERT INTO meta (key, value, checksum) VALUES (?, ?, ?) ' +
        'ON CONFLICT (key) DO UPDATE SET value = excluded.value, checksum = excluded.checksum',
    ),
  };
}

function statementsPrepare(db: Database.Database) {
  return {
    ...metaStatementsPrepare(db),
    recordPut: db.prepare<[number, number, number, number, number, string, number, number, Uint8Array]>(
      `INSERT OR REPLACE INTO records (${recordColumns}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    recordHead: db.prepare<[number], { valueId: string; valueChecksum: number; chosen: number }>(
      'SELECT value_id AS valueId, value_checksum AS valueChecksum, chosen FROM records WHERE instance = ?',
    ),
    recordOne: db.prepare<[number], RecordRow>(`SELECT ${recordColumns} FROM records WHERE instance = ?`),
    recordHeadUpdate: db.prepare<[number, number, number, number, number, number]>(
      'UPDATE records SET ballot_round = ?, ballot_replica = ?, ballot_incarnation = ?, chosen = ?, checksum = ? WHERE instance = ?',
    ),
    recordsRange: db.prepare<[number, number, number], RecordRow>(
      `SELECT ${recordColumns} FROM records WHERE instance >= ? AND instance <= ? ORDER BY instance LIMIT ?`,
    ),
    instanceMax: db.prepare<[], { instanceMax: number | null }>('SELECT MAX(instance) AS instanceMax FROM records'),
    batchPut: db.prepare<[number, number, number, number, number, Uint8Array | null, number]>(
      `INSERT INTO batches (${batchColumns}) VALUES (?, ?, ?, ?, ?, ?, ?)`,
    ),
    batchesHolding: db.prepare<[number, number], BatchRow>(
      `SELECT ${batchColumns} FROM batches WHERE offset_next > ? ORDER BY offset_next, instance LIMIT ?`,
    ),
    batchesBefore: db.prepare<[number, number], BatchRow>(
      `SELECT ${batchColumns} FROM batches WHERE instance < ? ORDER BY instance DESC LIMIT ?`,
    ),
    batchFirstWithBytesBefore: db.prepare<[number], BatchRow>(
      `SELECT ${batchColumns} FROM batches WHERE bytes_before >= ? ORDER BY bytes_before, instance LIMIT 1`,
    ),
    batchFirstAtTime: db.prepare<[number], BatchRow>(
      `SELECT ${batchColumns} FROM batches WHERE timestamp_ms >= ? ORDER BY timestamp_ms, instance LIMIT 1`,
    ),
    batchLastEndingBy: db.prepare<[number], BatchRow>(
      `SELECT ${batchColumns} FROM batches WHERE offset_next <= ? ORDER BY instance DESC LIMIT 1`,
    ),
    batchesDropThrough: db.prepare<[number]>('DELETE FROM batches WHERE instance <= ?'),
    recordsDropThrough: db.prepare<[number]>('DELETE FROM records WHERE instance <= ?'),
    recordsAbove: db.prepare<[number]>('DELETE FROM records WHERE instance > ?'),
    dedupKeptPut: db.prepare<[number, string, number]>('INSERT INTO dedup_kept ("offset", id, checksum) VALUES (?, ?, ?)'),
    dedupKeptLast: db.prepare<[number], DedupRow>('SELECT "offset", id, checksum FROM dedup_kept ORDER BY "offset" DESC LIMIT ?'),
    dedupKeptTrim: db.prepare<[number]>(
      'DELETE FROM dedup_kept WHERE "offset" < (SELECT "offset" FROM dedup_kept ORDER BY "offset" DESC LIMIT 1 OFFSET ?)',
    ),
  };
}

type Statements = ReturnType<typeof statementsPrepare>;

/**
 * The stored checksum of each value object written as a record, so a chosen mark (the same value
 * object, one write later) is checked against the row without encoding the whole batch again.
 */
const valueChecksums = new WeakMap<Value, number>();

/**
 * The durable store of one log's replica, in one SQLite file: the hard state (StableStore), the
 * instance records (LogStore), the committed batches and the learner state (StateMachine), and the
 * election's restart counter. Every Ready is persisted in one fsynced transaction, so the learner
 * state never lags the records. A committed entry is stored once, in its chosen value's record:
 * committing a batch writes one small batches row, not a row per entry. Every stored row carries
 * a CRC32 checked on every read from disk; a mismatch throws CorruptionError. Any SQLite error (a full disk included) propagates: the caller must treat
 * a throwing persist() as fatal.
 */
export class SqliteLog implements LogStoreReader {
  readonly path: string;
  private readonly db: Database.Database;
  private readonly dedupIdsMax: number;
  readonly retention: RetentionPolicy;
  private readonly statements: Statements;
  private readonly persistTransaction: (ready: PersistInput) => Cursor;
  private readonly epochTransaction: () => number;
  /** Prepared once (outside any transaction, where SQLite refuses them): they run around every unsynced Ready. */
  private readonly synchronous: { normal: Database.Statement; full: Database.Statement; read: Database.Statement<[], number> };
  private cursor: Cursor;
  private hardStateLast: HardState;
  private readonly cache: BatchCache;

  static open(options: { path: string; dedupIdsMax: number; retention?: RetentionPolicy; cachedBytesMax?: number }): SqliteLog {
    const { dedupIdsMax } = options;
    assert(Number.isSafeInteger(dedupIdsMax) && dedupIdsMax >= 1, `dedupIdsMax ${dedupIdsMax}`);
    mkdirSync(dirname(options.path), { recursive: true });
    const db = new Database(options.path);
    try {
      pragmasApply({ db, path: options.path });
      const statements = db.transaction(() => {
        tablesCreate(db);
        schemaMigrate({ db });
        const prepared = statementsPrepare(db);
        schemaEnsure({ statements: prepared, path: options.path });
        return prepared;
      })();
      const retention = options.retention ?? retentionKeepAll;
      const cache = new BatchCache(options.cachedBytesMax ?? cachedBytesMaxDefault);
      return new SqliteLog({ db, statements, path: options.path, dedupIdsMax, retention, cache });
    } catch (error) {
      db.close();
      throw error;
    }
  }

  private constructor(options: { db: Database.Database; statements: Statements; path: string; dedupIdsMax: number; retention: RetentionPolicy; cache: BatchCache }) {
    this.db = options.db;
    this.cache = options.cache;
    this.retention = options.retention;
    this.path = options.path;
    this.dedupIdsMax = options.dedupIdsMax;
    this.statements = options.statements;
    this.persistTransaction = options.db.transaction((ready: PersistInput) => this.persistRows(ready));
    this.synchronous = {
      normal: options.db.prepare('PRAGMA synchronous = NORMAL'),
      full: options.db.prepare('PRAGMA synchronous = FULL'),
      read: options.db.prepare<[], number>('PRAGMA synchronous').pluck(),
    };
    this.epochTransaction = options.db.transaction(() => {
      const epoch = (this.metaGet(metaKey.epoch) ?? 0) + 1;
      this.metaPut(metaKey.epoch, epoch);
      return epoch;
    });
    this.cursor = {
      committedInstance: this.metaGet(metaKey.committedInstance) ?? 0,
      offsetNext: this.metaGet(metaKey.offsetNext) ?? 0,
      timestampLastMs: this.metaGet(metaKey.timestampLastMs) ?? 0,
      bytesTotal: this.metaGet(metaKey.bytesTotal) ?? 0,
      horizonOffset: this.metaGet(metaKey.horizonOffset) ?? 0,
      compactedInstance: this.metaGet(metaKey.compactedInstance) ?? 0,
    };
    this.hardStateLast = this.hardState();
  }

  /** The pragmas as SQLite reports them now (open() already checked them). */
  pragmas(): { journalMode: string; synchronous: number } {
    return {
      journalMode: String(this.db.pragma('journal_mode', { simple: true })),
      synchronous: Number(this.db.pragma('synchronous', { simple: true })),
    };
  }

  /**
   * Increments and persists (fsynced) the restart counter. A new store's counter starts at a random
   * base below epochBasesMax, so the lease ballots of two lives of one replica (a disk lost in
   * between) do not meet: lease rounds start over in every life, and the epoch tells lives apart.
   */
  epochNext(): number {
    return this.epochTransaction();
  }

  hardState(): HardState {
    const round = this.metaGet(metaKey.promisedRound);
    const replica = this.metaGet(metaKey.promisedReplica);
    const promisedIncarnation = this.metaGet(metaKey.promisedIncarnation);
    const roundMax = this.metaGet(metaKey.roundMax);
    const incarnation = this.metaGet(metaKey.incarnation);
    if (incarnation === undefined || !incarnationValid(incarnation, { own: true })) {
      throw new CorruptionError({ table: 'meta', key: metaKey.incarnation, detail: `the store's incarnation is ${incarnation ?? 'missing'}` });
    }
    const rebuilding = this.metaGet(metaKey.rebuilding) === 1 ? { rebuilding: true } : {};
    if (round === undefined || replica === undefined || promisedIncarnation === undefined || roundMax === undefined) {
      const none = round === undefined && replica === undefined && promisedIncarnation === undefined && roundMax === undefined;
      assert(none, 'hard state stored in part');
      return { promised: ballotZero, roundMax: 0, incarnation, ...rebuilding };
    }
    return { promised: { round, replica, incarnation: promisedIncarnation }, roundMax, incarnation, ...rebuilding };
  }

  /**
   * What the learner restarts from: exactly its state after the last persisted batch. The dedup
   * window is the newest dedupIdsMax ids of the retained entries and of dedup_kept together.
   */
  learnerState(): LearnerState {
    const newest = this.idsNewest();
    for (const row of this.statements.dedupKeptLast.all(this.dedupIdsMax)) {
      checksumVerify({ table: 'dedup_kept', key: `offset ${row.offset}`, stored: row.checksum, computed: dedupChecksum(row) });
      newest.push([row.id, row.offset]);
    }
    newest.sort((a, b) => b[1] - a[1]);
    const dedup = newest.slice(0, this.dedupIdsMax).reverse();
    const { committedInstance, offsetNext, timestampLastMs } = this.cursor;
    return { committedInstance, offsetNext, timestampLastMs, dedup };
  }

  /** The newest dedupIdsMax client ids of the retained entries, newest first, with their offsets. */
  private idsNewest(): Array<readonly [string, number]> {
    const newest: Array<readonly [string, number]> = [];
    let before = Number.MAX_SAFE_INTEGER;
    for (;;) {
      const rows = this.statements.batchesBefore.all(before, batchesPerQueryMax);
      for (const row of rows) {
        const { entries } = this.batchDecoded(row, { cache: false });
        for (let position = entries.length - 1; position >= 0; position--) {
          const entry = entries[position]!;
          if (entry.offset < this.cursor.horizonOffset || newest.length >= this.dedupIdsMax) return newest;
          if (entry.id !== undefined) newest.push([entry.id, entry.offset]);
        }
      }
      const last = rows[rows.length - 1];
      if (last === undefined) return newest;
      before = last.instance;
    }
  }

  records(options: { instanceFrom: number; instanceTo: number; recordsMax: number }): InstanceRecord[] {
    assert(options.recordsMax >= 0, `recordsMax ${options.recordsMax}`);
    const rows = this.statements.recordsRange.all(options.instanceFrom, options.instanceTo, options.recordsMax);
    return rows.map(recordFromRow);
  }

  instanceMax(): number {
    return Math.max(this.statements.instanceMax.get()?.instanceMax ?? 0, this.cursor.compactedInstance);
  }

  /** Every instance up to this one is compacted away: its records are gone (LogStoreReader). */
  compactedInstance(): number {
    return this.cursor.compactedInstance;
  }

  /** The first offset still stored: reads from below it fail with BeforeHorizonError. */
  get horizonOffset(): number {
    return this.cursor.horizonOffset;
  }

  /** Entry bytes committed since the log began. */
  get bytesTotal(): number {
    return this.cursor.bytesTotal;
  }

  /** Committed entries with offset >= from, ascending, at most `limit`. */
  readEntries(options: { from: number; limit: number }): CommittedEntry[] {
    assert(Number.isSafeInteger(options.from) && options.from >= 0, `readEntries from ${options.from}`);
    assert(Number.isSafeInteger(options.limit) && options.limit >= 0, `readEntries limit ${options.limit}`);
    if (options.from < this.cursor.horizonOffset) throw new BeforeHorizonError({ from: options.from, offsetFirst: this.cursor.horizonOffset });
    const entries: CommittedEntry[] = [];
    if (options.limit === 0) return entries;
    for (const entry of this.entriesFrom({ from: options.from, cache: true })) {
      entries.push(entry);
      if (entries.length >= options.limit) break;
    }
    return entries;
  }

  /**
   * One page of committed entries from `from`: at most `entriesMax` of them and `bytesMax` bytes
   * as committedEntryBytes counts them (always at least one entry when any is there). With `key`, only that key's entries,
   * scanning at most `scanMax` offsets. `offsetNext` is where the next page starts.
   */
  readPage(options: ReadPageOptions): { entries: CommittedEntry[]; offsetNext: number } {
    assert(Number.isSafeInteger(options.from) && options.from >= 0, `readPage from ${options.from}`);
    assert(options.entriesMax >= 1 && options.bytesMax >= 1, 'readPage bounds');
    if (options.from < this.cursor.horizonOffset) throw new BeforeHorizonError({ from: options.from, offsetFirst: this.cursor.horizonOffset });
    const scanEnd = options.key === undefined ? Number.MAX_SAFE_INTEGER : options.from + (options.scanMax ?? 65_536);
    const entries: CommittedEntry[] = [];
    let bytes = 0;
    let full = false;
    for (const entry of this.entriesFrom({ from: options.from, cache: true })) {
      if (entry.offset >= scanEnd) break;
      if (options.key !== undefined && entry.key !== options.key) continue;
      // Stops before passing bytesMax, counting what the entry takes in a reply (its id and key
      // too, in UTF-8): a page must fit one NATS message. One entry always goes.
      const bytesOfEntry = committedEntryBytes(entry);
      full = entries.length > 0 && bytes + bytesOfEntry > options.bytesMax;
      if (full) break;
      entries.push(entry);
      bytes += bytesOfEntry;
      full = entries.length >= options.entriesMax;
      if (full) break;
    }
    const last = entries[entries.length - 1];
    if (last !== undefined && (full || options.key === undefined)) return { entries, offsetNext: last.offset + 1 };
    return { entries, offsetNext: Math.max(options.from, Math.min(scanEnd, this.cursor.offsetNext)) };
  }

  /**
   * readPage's entries in their stored form (a packed read: docs/PROTOCOL.md): the same entries and
   * `offsetNext` for the same options, as segments of entry tuples copied out of the stored values
   * with no entry decoded (only keys, with `key`). Bytes count the tuples and segment headers.
   */
  readPacked(options: ReadPageOptions): { segments: PackedSegment[]; count: number; offsetNext: number } {
    assert(Number.isSafeInteger(options.from) && options.from >= 0, `readPacked from ${options.from}`);
    if (options.from < this.cursor.horizonOffset) throw new BeforeHorizonError({ from: options.from, offsetFirst: this.cursor.horizonOffset });
    const scanEnd = options.key === undefined ? Number.MAX_SAFE_INTEGER : options.from + (options.scanMax ?? 65_536);
    const page = new PackedPage({ entriesMax: options.entriesMax, bytesMax: options.bytesMax });
    const scan = { page, from: options.from, scanEnd, key: options.key };
    let after = options.from;
    let done = false;
    while (!done) {
      const rows = this.statements.batchesHolding.all(after, batchesPerQueryMax);
      for (const row of rows) {
        done = this.packBatch({ ...scan, row });
        if (done) break;
      }
      const last = rows[rows.length - 1];
      if (last === undefined) break;
      after = last.offset_next;
    }
    const segments = page.packed();
    if (page.count > 0 && (page.full || options.key === undefined)) return { segments, count: page.count, offsetNext: page.offsetLast + 1 };
    return { segments, count: page.count, offsetNext: Math.max(options.from, Math.min(scanEnd, this.cursor.offsetNext)) };
  }

  /** Adds one batch's entries from `from` to a packed page; true when the read is done (page full, or past `scanEnd`). */
  private packBatch(options: { row: BatchRow; page: PackedPage; from: number; scanEnd: number; key: string | undefined }): boolean {
    const { row, page } = options;
    if (row.offset_first >= options.scanEnd) return true;
    const { bytes, key, skipped } = this.batchRecord(batchVerify(row));
    const starts = valueTupleStarts({ bytes, table: 'records', key });
    batchCountVerify({ row, key, entries: starts.length - 1 - skipped.size });
    let offset = row.offset_first;
    for (let position = 0; position + 1 < starts.length; position++) {
      if (skipped.has(position)) continue;
      const entryOffset = offset++;
      if (entryOffset < options.from) continue;
      if (entryOffset >= options.scanEnd) return true;
      const start = starts[position]!;
      const end = starts[position + 1]!;
      if (options.key !== undefined && tupleKey(bytes, start, end) !== options.key) continue;
      page.add({ offset: entryOffset, timestampMs: row.timestamp_ms, bytes, start, end });
      if (page.full) return true;
    }
    return false;
  }

  /** Entries retained: offsets are contiguous (asserted on every write) from the horizon on. */
  get entryCount(): number {
    return this.cursor.offsetNext - this.cursor.horizonOffset;
  }

  /**
   * Committed entries from offset `from` on, in order, batch by batch. Reads keep what they decode
   * (`cache`); retention, inside the transaction, does not (what it decodes is about to go).
   */
  private *entriesFrom(options: { from: number; cache: boolean }): Generator<CommittedEntry> {
    const { from, cache } = options;
    let after = from;
    for (;;) {
      const rows = this.statements.batchesHolding.all(after, batchesPerQueryMax);
      for (const row of rows) {
        const batch = this.batchDecoded(row, { cache });
        for (let position = Math.max(0, from - batch.offsetFirst); position < batch.entries.length; position++) yield batch.entries[position]!;
      }
      const last = rows[rows.length - 1];
      if (last === undefined) return;
      after = last.offset_next;
    }
  }

  /**
   * One committed batch's entries: from the cache, or decoded from its chosen value's record with
   * both rows' checksums verified, the skipped positions left out, and offsets from offset_first.
   * Reads keep what they decode (`cache`); the dedup scan at open and retention do not, so what is
   * cached is what clients read or what was committed since.
   */
  private batchDecoded(row: BatchRow, options: { cache: boolean }): DecodedBatch {
    const cached = this.cache.get(batchVerify(row).instance);
    if (cached !== undefined) return cached;
    const { bytes, key, skipped } = this.batchRecord(row);
    const entries = committedEntriesDecode({ bytes, table: 'records', key, offsetFirst: row.offset_first, timestampMs: row.timestamp_ms, skipped });
    batchCountVerify({ row, key, entries: entries.length });
    const batch = { instance: row.instance, offsetFirst: row.offset_first, offsetNext: row.offset_next, entries };
    if (options.cache) this.cache.put(batch);
    return batch;
  }

  /**
   * The stored value of a committed batch whose row the caller verified, its record's checksums
   * verified here, with the positions of the value that got no offset: what a decoded read and a
   * packed read start from.
   */
  private batchRecord(row: BatchRow): { bytes: Uint8Array; key: string; skipped: ReadonlySet<number> } {
    const key = `instance ${row.instance}`;
    const recordRow = this.statements.recordOne.get(row.instance);
    if (recordRow === undefined || recordRow.chosen !== 1) {
      throw new CorruptionError({ table: 'records', key, detail: 'a committed batch has no chosen record' });
    }
    recordVerify(recordRow);
    return { bytes: bytesPlain(recordRow.value), key, skipped: skippedDecode(row.skipped) };
  }

  /** The offset the next committed entry gets, as of the last persisted batch. */
  get offsetNext(): number {
    return this.cursor.offsetNext;
  }

  get committedInstance(): number {
    return this.cursor.committedInstance;
  }

  /**
   * Persists one Ready in one fsynced transaction: the hard state, the records in order (a later
   * record for an instance replaces the earlier one), the committed batches' entries and the
   * learner cursor. Throws on any SQLite error, and on a batch or offset out of sequence; either
   * way nothing of this Ready is stored and the store's state is unchanged.
   */
  persist(ready: PersistInput): void {
    if (ready.hardState === null && ready.records.length === 0 && ready.committed.length === 0) return;
    const cursor = ready.mustSync ? this.persistTransaction(ready) : this.withoutSync(() => this.persistTransaction(ready));
    this.cursor = cursor;
    if (ready.hardState !== null) this.hardStateLast = ready.hardState;
    for (const batch of ready.committed) {
      this.cache.put({ instance: batch.instance, offsetFirst: batch.offsetNext - batch.entries.length, offsetNext: batch.offsetNext, entries: batch.entries });
    }
    this.cache.dropThrough(cursor.compactedInstance);
  }

  /**
   * Runs one transaction at synchronous=NORMAL, for writes that need not be durable before anything
   * leaves (Ready.mustSync false); the setting is back to FULL, and read back, before anything else runs.
   */
  private withoutSync<T>(write: () => T): T {
    this.synchronous.normal.run();
    try {
      return write();
    } finally {
      this.synchronous.full.run();
      const synchronous: unknown = this.synchronous.read.get();
      assert(synchronous === 2, `SQLite at ${this.path}: synchronous reads back as ${String(synchronous)} after a chosen-only write`);
    }
  }

  /**
   * A consistent copy of the whole store at `path`, taken page by page between the event loop's
   * other work (SQLite's online backup: writes made meanwhile through this connection are carried
   * into the copy), then turned into a single self-contained file (rollback journal, not WAL).
   */
  async backupTo(path: string): Promise<void> {
    await this.db.backup(path);
    const copy = new Database(path);
    try {
      copy.pragma('journal_mode = DELETE');
    } finally {
      copy.close();
    }
  }

  /** What a store file holds, read without changing it (a snapshot, before it is served or installed). */
  static describe(path: string): StoreDescription {
    const db = new Database(path, { readonly: true, fileMustExist: true });
    try {
      const statements = { metaGet: db.prepare<[string], MetaRow>('SELECT value, checksum FROM meta WHERE key = ?') };
      const meta = (key: string): number => metaRead({ statements, key }) ?? 0;
      const version = meta(metaKey.schemaVersion);
      if (version !== schemaVersion) throw new Error(`store ${path}: schema_version ${version}, this build reads ${schemaVersion}`);
      return {
        committedInstance: meta(metaKey.committedInstance),
        offsetNext: meta(metaKey.offsetNext),
        horizonOffset: meta(metaKey.horizonOffset),
        compactedInstance: meta(metaKey.compactedInstance),
      };
    } finally {
      db.close();
    }
  }

  /**
   * Makes a snapshot file at `path` this replica's own before it replaces the live store: the
   * records above the snapshot's committed instance are the serving replica's votes, not this
   * one's, so they go, and this replica's own records above it (`own.records`: what it accepted,
   * which an acceptor never forgets) take their place; the hard state and restart counter become
   * this replica's; the promise stays the higher of the two, which only restricts it.
   */
  static adoptSnapshot(options: { path: string; own: { hardState: HardState; epoch: number; records: readonly InstanceRecord[] } }): StoreDescription {
    const log = SqliteLog.open({ path: options.path, dedupIdsMax: 1 });
    try {
      const own = options.own.hardState;
      const theirs = log.hardState();
      const promised = ballotCompare(own.promised, theirs.promised) >= 0 ? own.promised : theirs.promised;
      log.db.transaction(() => {
        log.statements.recordsAbove.run(log.cursor.committedInstance);
        for (const record of options.own.records) if (record.instance > log.cursor.committedInstance) log.recordWrite(record);
        log.metaPut(metaKey.promisedRound, promised.round);
        log.metaPut(metaKey.promisedReplica, promised.replica);
        log.metaPut(metaKey.promisedIncarnation, promised.incarnation);
        log.metaPut(metaKey.roundMax, own.roundMax);
        log.metaPut(metaKey.incarnation, own.incarnation);
        log.metaPut(metaKey.rebuilding, own.rebuilding === true ? 1 : 0);
        log.metaPut(metaKey.epoch, options.own.epoch);
      })();
      const { committedInstance, offsetNext, horizonOffset, compactedInstance } = log.cursor;
      return { committedInstance, offsetNext, horizonOffset, compactedInstance };
    } finally {
      log.close();
    }
  }

  /** The restart counter as stored (epochNext() increments it). */
  epoch(): number {
    return this.metaGet(metaKey.epoch) ?? 0;
  }

  close(): void {
    this.db.close();
  }

  /**
   * Whether the store at `path` is one self-contained file: no WAL beside it, or an empty one.
   * SQLite checkpoints the WAL into the database and deletes it when the last connection closes;
   * a snapshot install checks this of both files before it renames one over the other, since a
   * WAL left beside a file renamed into place would be replayed into the wrong database
   * (sqlite.org/howtocorrupt.html, "mispairing database files and hot journals").
   */
  static walEmpty(path: string): boolean {
    const wal = `${path}-wal`;
    return !existsSync(wal) || statSync(wal).size === 0;
  }

  /** Runs inside the persist transaction; returns the cursor to adopt once it commits. */
  private persistRows(ready: PersistInput): Cursor {
    if (ready.hardState !== null) this.hardStateWrite(ready.hardState);
    for (const record of ready.records) this.recordWrite(record);
    if (ready.committed.length === 0) return this.cursor;
    const cursor = this.retain(this.committedWrite(ready.committed));
    this.metaPut(metaKey.committedInstance, cursor.committedInstance);
    this.metaPut(metaKey.offsetNext, cursor.offsetNext);
    this.metaPut(metaKey.timestampLastMs, cursor.timestampLastMs);
    this.metaPut(metaKey.bytesTotal, cursor.bytesTotal);
    this.metaPut(metaKey.horizonOffset, cursor.horizonOffset);
    this.metaPut(metaKey.compactedInstance, cursor.compactedInstance);
    return cursor;
  }

  /**
   * Upserts one record. A valueId names one value for life, so when the stored row already holds
   * this value (the usual case: a chosen mark, or a re-accept at a higher ballot) only the row's
   * head is rewritten, not the value (asserted equal through its checksum).
   */
  private recordWrite(record: InstanceRecord): void {
    const { instance, ballot, chosen, value } = record;
    assert(Number.isSafeInteger(instance) && instance >= 1, `record instance ${instance}`);
    const { round, replica, incarnation } = ballot;
    const { valueId } = value;
    const stored = this.statements.recordHead.get(instance);
    if (stored !== undefined && stored.valueId === valueId) {
      // The value object was usually written here before (its accept): its checksum is known.
      const valueChecksum = valueChecksums.get(value) ?? blobChecksum(valueEncode(value));
      assert(stored.valueChecksum === valueChecksum, `instance ${instance}: valueId ${valueId} names two values`);
      const checksum = recordChecksum({ instance, round, replica, incarnation, chosen, valueId, valueChecksum });
      this.statements.recordHeadUpdate.run(round, replica, incarnation, chosen ? 1 : 0, checksum, instance);
      return;
    }
    const bytes = valueEncode(value);
    const valueChecksum = blobChecksum(bytes);
    valueChecksums.set(value, valueChecksum);
    const checksum = recordChecksum({ instance, round, replica, incarnation, chosen, valueId, valueChecksum });
    this.statements.recordPut.run(instance, round, replica, incarnation, chosen ? 1 : 0, valueId, valueChecksum, checksum, bytes);
  }

  private hardStateWrite(hardState: HardState): void {
    const last = this.hardStateLast;
    assert(
      ballotCompare(hardState.promised, last.promised) >= 0,
      `promise decreases from ${ballotText(last.promised)} to ${ballotText(hardState.promised)}`,
    );
    assert(hardState.roundMax >= last.roundMax, `roundMax decreases from ${last.roundMax} to ${hardState.roundMax}`);
    assert(hardState.rebuilding !== true || last.rebuilding === true, 'a voting replica cannot go back to rebuilding');
    assert(hardState.incarnation === last.incarnation, `incarnation changes from ${last.incarnation} to ${hardState.incarnation}`);
    this.metaPut(metaKey.rebuilding, hardState.rebuilding === true ? 1 : 0);
    this.metaPut(metaKey.promisedRound, hardState.promised.round);
    this.metaPut(metaKey.promisedReplica, hardState.promised.replica);
    this.metaPut(metaKey.promisedIncarnation, hardState.promised.incarnation);
    this.metaPut(metaKey.roundMax, hardState.roundMax);
  }

  /**
   * Writes one batches row per committed batch, asserting that batches and offsets continue the
   * stored log and that each batch's chosen value is stored in its record (its entries live there).
   */
  private committedWrite(batches: readonly CommittedBatch[]): Cursor {
    let { committedInstance, offsetNext, timestampLastMs, bytesTotal } = this.cursor;
    for (const batch of batches) {
      const { instance, timestampMs } = batch;
      assert(instance === committedInstance + 1, `batch ${instance} persisted after ${committedInstance}`);
      assert(timestampMs >= timestampLastMs, `batch ${instance} timestamp goes backwards`);
      const record = this.statements.recordHead.get(instance);
      assert(record !== undefined && record.valueId === batch.valueId && record.chosen === 1, `batch ${instance}: no chosen record of ${batch.valueId}`);
      const row = { instance, offsetFirst: offsetNext, offsetNext: batch.offsetNext, bytesBefore: bytesTotal, timestampMs, skipped: skippedEncode(batch) };
      for (const entry of batch.entries) {
        if (entry.offset !== offsetNext) fail(`batch ${instance}: offset ${entry.offset}, expected ${offsetNext}`);
        if (entry.timestampMs !== timestampMs) fail(`batch ${instance}: offset ${entry.offset} has another timestamp`);
        offsetNext++;
        bytesTotal += entry.data.byteLength;
      }
      assert(batch.offsetNext === offsetNext, `batch ${instance}: offsetNext ${batch.offsetNext}, its entries end at ${offsetNext}`);
      this.statements.batchPut.run(instance, row.offsetFirst, row.offsetNext, row.bytesBefore, timestampMs, row.skipped, batchChecksum(row));
      committedInstance = instance;
      timestampLastMs = timestampMs;
    }
    return { ...this.cursor, committedInstance, offsetNext, timestampLastMs, bytesTotal };
  }

  /**
   * Applies the retention policy after the batches of one Ready: a pure function of the committed
   * batches and the policy, so every replica that runs the same policy truncates at the same
   * offsets. Entries below the horizon are gone for readers (their ids move to dedup_kept while
   * still in the dedup window); the batches and records of every instance whose entries are all
   * below it are deleted (a batch that straddles the horizon stays whole on disk).
   */
  private retain(cursor: Cursor): Cursor {
    const policy = this.retention;
    if (!retentionIsBounded(policy)) return cursor;
    let horizon = cursor.horizonOffset;
    const { offsetNext } = cursor;
    if (policy.entriesMax !== undefined) horizon = Math.max(horizon, offsetNext - policy.entriesMax);
    if (policy.bytesMax !== undefined) {
      const first = this.statements.batchFirstWithBytesBefore.get(cursor.bytesTotal - policy.bytesMax);
      horizon = Math.max(horizon, first === undefined ? offsetNext : batchVerify(first).offset_first);
    }
    if (policy.ageMsMax !== undefined) {
      const first = this.statements.batchFirstAtTime.get(cursor.timestampLastMs - policy.ageMsMax);
      horizon = Math.max(horizon, first === undefined ? offsetNext : batchVerify(first).offset_first);
    }
    horizon = Math.min(horizon, offsetNext);
    if (horizon === cursor.horizonOffset) return cursor;
    this.dedupKeep({ from: cursor.horizonOffset, to: horizon });
    const gone = this.statements.batchLastEndingBy.get(horizon);
    let compactedInstance = cursor.compactedInstance;
    if (gone !== undefined && gone.instance > compactedInstance) {
      compactedInstance = batchVerify(gone).instance;
      this.statements.batchesDropThrough.run(compactedInstance);
      this.statements.recordsDropThrough.run(compactedInstance);
    }
    return { ...cursor, horizonOffset: horizon, compactedInstance };
  }

  /** Moves the ids of entries in [from, to) into dedup_kept, keeping its newest dedupIdsMax. */
  private dedupKeep(range: { from: number; to: number }): void {
    for (const { offset, id } of this.entriesFrom({ from: range.from, cache: false })) {
      if (offset >= range.to) break;
      if (id !== undefined) this.statements.dedupKeptPut.run(offset, id, dedupChecksum({ offset, id }));
    }
    this.statements.dedupKeptTrim.run(this.dedupIdsMax - 1);
  }

  private metaGet(key: string): number | undefined {
    return metaRead({ statements: this.statements, key });
  }

  private metaPut(key: string, value: number): void {
    metaWrite({ statements: this.statements, key, value });
  }
}

function metaRead(options: { statements: Pick<Statements, 'metaGet'>; key: string }): number | undefined {
  const row = options.statements.metaGet.get(options.key);
  if (row === undefined) return undefined;
  const computed = metaChecksum({ key: options.key, value: row.value });
  checksumVerify({ table: 'meta', key: options.key, stored: row.checksum, computed });
  return row.value;
}

function metaWrite(options: { statements: Pick<Statements, 'metaPut'>; key: string; value: number }): void {
  const { key, value } = options;
  assert(Number.isFinite(value), `meta ${key} = ${value}`);
  options.statements.metaPut.run(key, value, metaChecksum({ key, value }));
}

/** Checks the schema version, or writes it into a new file. */
function schemaEnsure(options: { statements: Statements; path: string }): void {
  const { statements } = options;
  const key = metaKey.schemaVersion;
  const version = metaRead({ statements, key });
  if (version === undefined) {
    metaWrite({ statements, key, value: schemaVersion });
    // A new store may be a replica whose disk was lost: it rebuilds before it votes (see Rebuild),
    // its ballots differ from its old life's by a new incarnation (see Ballot), and its restart
    // counter starts at a random base (see epochNext).
    metaWrite({ statements, key: metaKey.rebuilding, value: 1 });
    metaWrite({ statements, key: metaKey.incarnation, value: incarnationDraw() });
    metaWrite({ statements, key: metaKey.epoch, value: randomInt(0, epochBasesMax) });
  } else if (version !== schemaVersion) {
    throw new Error(`SQLite at ${options.path}: schema_version ${version}, this build reads ${schemaVersion}`);
  }
}

/**
 * A new store's restart counter starts below this: 2^40, which leaves 2^48 - 2^40 restarts before
 * an epoch reaches the wire's bound, and makes two lives' ranges of epochs overlap with a chance of
 * about (restarts of both) / 2^40.
 */
export const epochBasesMax = 2 ** 40;

/** A new store's incarnation: random in [1, incarnationsMax), so two lives of one replica differ. */
function incarnationDraw(): number {
  return randomInt(1, incarnationsMax);
}

/**
 * Brings a schema-3 store (before incarnations) to this build's schema, in open()'s transaction:
 * its ballots get incarnation 0, which its record checksums already cover (see recordChecksum),
 * and the store draws its own incarnation. Any other version is left to schemaEnsure to refuse.
 * The new column lands after the value in a migrated table; every statement names its columns.
 */
function schemaMigrate(options: { db: Database.Database }): void {
  const statements = metaStatementsPrepare(options.db);
  if (metaRead({ statements, key: metaKey.schemaVersion }) !== 3) return;
  options.db.exec('ALTER TABLE records ADD COLUMN ballot_incarnation INTEGER NOT NULL DEFAULT 0');
  metaWrite({ statements, key: metaKey.incarnation, value: incarnationDraw() });
  if (metaRead({ statements, key: metaKey.promisedRound }) !== undefined) metaWrite({ statements, key: metaKey.promisedIncarnation, value: 0 });
  metaWrite({ statements, key: metaKey.schemaVersion, value: schemaVersion });
}

/** Checks a records row's checksums: its head, and its value's bytes. */
function recordVerify(row: RecordRow): void {
  const table = 'records';
  const key = `instance ${row.instance}`;
  const head = { instance: row.instance, round: row.ballot_round, replica: row.ballot_replica, incarnation: row.ballot_incarnation, chosen: row.chosen === 1 };
  const computed = recordChecksum({ ...head, valueId: row.value_id, valueChecksum: row.value_checksum });
  checksumVerify({ table, key, stored: row.checksum, computed });
  checksumVerify({ table, key, stored: row.value_checksum, computed: blobChecksum(row.value) });
}

function recordFromRow(row: RecordRow): InstanceRecord {
  recordVerify(row);
  const value = valueDecode({ bytes: bytesPlain(row.value), valueId: row.value_id, table: 'records', key: `instance ${row.instance}` });
  const ballot = { round: row.ballot_round, replica: row.ballot_replica, incarnation: row.ballot_incarnation };
  return { instance: row.instance, ballot, chosen: row.chosen === 1, value };
}

/** A committed batch's value must hold one entry per offset of the batch, skipped positions aside. */
function batchCountVerify(options: { row: BatchRow; key: string; entries: number }): void {
  const { row, key, entries } = options;
  if (row.offset_first + entries === row.offset_next) return;
  throw new CorruptionError({ table: 'batches', key, detail: `its value holds ${entries} committed entries for offsets ${row.offset_first} to ${row.offset_next}` });
}

function batchVerify(row: BatchRow): BatchRow {
  const computed = batchChecksum({
    instance: row.instance,
    offsetFirst: row.offset_first,
    offsetNext: row.offset_next,
    bytesBefore: row.bytes_before,
    timestampMs: row.timestamp_ms,
    skipped: row.skipped,
  });
  checksumVerify({ table: 'batches', key: `instance ${row.instance}`, stored: row.checksum, computed });
  return row;
}

/** The positions of a batch's proposed entries that got no offset, as 32-bit little-endian integers; null when none. */
function skippedEncode(batch: CommittedBatch): Uint8Array | null {
  const positions: number[] = [];
  batch.results.forEach((result, position) => {
    if (result.status !== 'ok') positions.push(position);
  });
  assert(batch.entries.length + positions.length === batch.results.length, `batch ${batch.instance}: entries and results disagree`);
  if (positions.length === 0) return null;
  const bytes = Buffer.alloc(4 * positions.length);
  positions.forEach((position, at) => bytes.writeUInt32LE(position, 4 * at));
  return bytes;
}

const skippedNone: ReadonlySet<number> = new Set();

function skippedDecode(bytes: Buffer | null): ReadonlySet<number> {
  if (bytes === null) return skippedNone;
  const positions = new Set<number>();
  for (let at = 0; at + 4 <= bytes.byteLength; at += 4) positions.add(bytes.readUInt32LE(at));
  return positions;
}

/** A plain Uint8Array view of a Buffer (no copy), so stored bytes compare equal to the originals. */
function bytesPlain(buffer: Buffer): Uint8Array {
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}

export { BeforeHorizonError, CorruptionError };

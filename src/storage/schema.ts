import type Database from 'better-sqlite3';

/** Bumped whenever a table or a stored encoding changes; open() refuses any other version. */
export const schemaVersion = 4;

/**
 * meta: checksummed integers (schema_version, epoch, the hard state, the learner cursor).
 * records: one InstanceRecord per instance, its value msgpack-encoded and last in the row, so
 * reading or rewriting a row's head (ballot, chosen mark) leaves the value's overflow pages alone.
 * batches: one row per committed batch still retained: where its offsets start and end, the entry
 * bytes committed before it, the leader's timestamp, and the positions of the value's entries that
 * got no offset (a duplicate id or a stale expected offset; NULL when none). The entries
 * themselves are the chosen value in its record, stored once: a committed batch is its record's
 * value minus the skipped positions, at offsets from offset_first. batches_by_offset finds the
 * batch that holds an offset; the retention horizon is computed from the other two indexes.
 * dedup_kept: client ids of entries that retention removed while they are still in the dedup
 * window, so the window survives truncation and restarts identically on every replica.
 */
const tablesSql = `
  CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value INTEGER NOT NULL,
    checksum INTEGER NOT NULL
  ) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS records (
    instance INTEGER PRIMARY KEY,
    ballot_round INTEGER NOT NULL,
    ballot_replica INTEGER NOT NULL,
    ballot_incarnation INTEGER NOT NULL,
    chosen INTEGER NOT NULL,
    value_id TEXT NOT NULL,
    value_checksum INTEGER NOT NULL,
    checksum INTEGER NOT NULL,
    value BLOB NOT NULL
  );
  CREATE TABLE IF NOT EXISTS batches (
    instance INTEGER PRIMARY KEY,
    offset_first INTEGER NOT NULL,
    offset_next INTEGER NOT NULL,
    bytes_before INTEGER NOT NULL,
    timestamp_ms INTEGER NOT NULL,
    skipped BLOB,
    checksum INTEGER NOT NULL
  );
  CREATE INDEX IF NOT EXISTS batches_by_offset ON batches (offset_next);
  CREATE INDEX IF NOT EXISTS batches_by_bytes ON batches (bytes_before);
  CREATE INDEX IF NOT EXISTS batches_by_time ON batches (timestamp_ms);
  CREATE TABLE IF NOT EXISTS dedup_kept (
    "offset" INTEGER PRIMARY KEY,
    id TEXT NOT NULL,
    checksum INTEGER NOT NULL
  );
`;

export function tablesCreate(db: Database.Database): void {
  db.exec(tablesSql);
}

/**
 * WAL with synchronous=FULL: every commit fsyncs the WAL, so a persisted Ready survives power
 * loss. Both are set on every open and read back: better-sqlite3's SQLite reopens a WAL database
 * with synchronous=NORMAL (which may lose the last commits on power loss), so an unchecked setting
 * would silently weaken durability.
 */
export function pragmasApply(options: { db: Database.Database; path: string }): void {
  const { db, path } = options;
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  const journalMode: unknown = db.pragma('journal_mode', { simple: true });
  const synchronous: unknown = db.pragma('synchronous', { simple: true });
  if (journalMode !== 'wal') {
    throw new Error(`SQLite at ${path}: journal_mode reads back as ${String(journalMode)}, expected 'wal'`);
  }
  if (synchronous !== 2) {
    throw new Error(`SQLite at ${path}: synchronous reads back as ${String(synchronous)}, expected 2 (FULL)`);
  }
}

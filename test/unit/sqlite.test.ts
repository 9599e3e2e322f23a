import Database from 'better-sqlite3';
import { execFileSync } from 'node:child_process';
import { crc32 } from 'node:zlib';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { after, describe, it } from 'node:test';
import { ballotZero } from '../../src/log/ballot.js';
import { InvariantError } from '../../src/log/assert.js';
import { readyMustSync } from '../../src/log/Effects.js';
import { Learner } from '../../src/log/Learner.js';
import { MemoryLogStore } from '../../src/log/MemoryLogStore.js';
import { MemoryStateMachine } from '../../src/log/MemoryStateMachine.js';
import { SeededRandom } from '../../src/log/random.js';
import {
  learnerStateEmpty,
  type CommittedBatch,
  type Entry,
  type HardState,
  type InstanceRecord,
  type Value,
} from '../../src/log/types.js';
import { batchChecksum, metaChecksum } from '../../src/storage/checksum.js';
import { CorruptionError } from '../../src/storage/CorruptionError.js';
import { BeforeHorizonError, epochBasesMax, SqliteLog, type PersistInput } from '../../src/storage/SqliteLog.js';
import { decodeReadReply, encodeReadReply } from '../../src/transport/clientWire.js';
import { tuplesDecode } from '../../src/transport/entryTuples.js';
import { retentionText, type RetentionPolicy } from '../../src/snapshot/RetentionPolicy.js';

const dirRoot = mkdtempSync(join(tmpdir(), 'paxlog-sqlite-'));
after(() => rmSync(dirRoot, { recursive: true, force: true }));
let dirCount = 0;
const pathFresh = (): string => join(dirRoot, `case-${++dirCount}`, 'log.db');

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
const noWrites: PersistInput = { hardState: null, records: [], committed: [], mustSync: true };

function randomEntry(random: SeededRandom, options: { idPool: number; tag: string }): Entry {
  const entry: { -readonly [K in keyof Entry]: Entry[K] } = { data: bytes(`${options.tag}-${random.int(0, 1e6)}`) };
  if (random.next() < 0.7) entry.id = `id-${random.int(1, options.idPool)}`;
  if (random.next() < 0.3) entry.key = `key-${random.int(1, 5)}`;
  if (random.next() < 0.1) entry.expectedOffset = random.int(0, 40);
  return entry;
}

function randomValue(random: SeededRandom, options: { valueId: string; idPool: number }): Value {
  const entries: Entry[] = [];
  const count = random.int(0, 6);
  for (let index = 0; index < count; index++) entries.push(randomEntry(random, { idPool: options.idPool, tag: options.valueId }));
  return { valueId: options.valueId, entries, timestampMs: 1_000 + random.int(0, 500) * 10 };
}

/** The chosen value each test batch came from, so recordOf() can store it whole. */
const valueOfBatch = new WeakMap<CommittedBatch, Value>();

/** Batches as the Learner releases them (offsets, dedup and monotonic timestamps included). */
function batchesFromLearner(options: { seed: number; valuesCount: number; idPool: number; dedupIdsMax: number }): CommittedBatch[] {
  const random = new SeededRandom(options.seed);
  const learner = new Learner(learnerStateEmpty, { dedupIdsMax: options.dedupIdsMax });
  const values: Value[] = [];
  for (let instance = 1; instance <= options.valuesCount; instance++) {
    const value = randomValue(random, { valueId: `v${instance}`, idPool: options.idPool });
    values.push(value);
    learner.add(instance, value);
  }
  const batches = learner.release();
  batches.forEach((batch, index) => valueOfBatch.set(batch, values[index]!));
  return batches;
}

/** `count` batches of `entriesPerBatch` entries of `dataBytes` bytes, each with a client id. */
function batchesBulk(options: {
  instanceFirst: number;
  offsetFirst: number;
  count: number;
  entriesPerBatch: number;
  dataBytes: number;
}): CommittedBatch[] {
  const batches: CommittedBatch[] = [];
  let offset = options.offsetFirst;
  for (let index = 0; index < options.count; index++) {
    const instance = options.instanceFirst + index;
    const entries = [];
    for (let e = 0; e < options.entriesPerBatch; e++, offset++) {
      const data = new Uint8Array(options.dataBytes).fill(offset % 251);
      entries.push({ offset, data, id: `client-${offset}`, timestampMs: 5_000 + instance });
    }
    const results = entries.map((entry) => ({ status: 'ok' as const, offset: entry.offset }));
    batches.push({ instance, valueId: `1.1:${instance}`, timestampMs: 5_000 + instance, entries, results, offsetNext: offset });
  }
  return batches;
}

/** The record of a batch's value: its chosen value when the test has it, else one rebuilt from its entries. */
function recordOf(batch: CommittedBatch, chosen: boolean): InstanceRecord {
  const entries = batch.entries.map((entry): Entry => (entry.id === undefined ? { data: entry.data } : { data: entry.data, id: entry.id }));
  const value: Value = valueOfBatch.get(batch) ?? { valueId: batch.valueId, entries, timestampMs: batch.timestampMs };
  return { instance: batch.instance, ballot: { round: 1, replica: 1, incarnation: 5 }, chosen, value };
}

/** A Ready that commits `batches`: each with its chosen mark, which a committed batch needs. */
function committedReady(batches: readonly CommittedBatch[]): PersistInput {
  return { ...noWrites, records: batches.map((batch) => recordOf(batch, true)), committed: batches };
}

describe('SqliteLog: incarnations', () => {
  it('a new store draws its own incarnation and keeps it across reopens; an adopted snapshot takes the adopter\'s', () => {
    const [pathA, pathB] = [pathFresh(), pathFresh()];
    let a = SqliteLog.open({ path: pathA, dedupIdsMax: 10 });
    const b = SqliteLog.open({ path: pathB, dedupIdsMax: 10 });
    const [incarnationA, incarnationB] = [a.hardState().incarnation, b.hardState().incarnation];
    for (const incarnation of [incarnationA, incarnationB]) assert.ok(Number.isSafeInteger(incarnation) && incarnation >= 1 && incarnation < 2 ** 48);
    assert.notEqual(incarnationA, incarnationB, 'two stores, two lives');
    const [batch] = batchesBulk({ instanceFirst: 1, offsetFirst: 0, count: 1, entriesPerBatch: 2, dataBytes: 8 });
    assert.ok(batch !== undefined);
    const ballot = { round: 2, replica: 3, incarnation: 77 };
    const hardState: HardState = { promised: ballot, roundMax: 1, incarnation: incarnationA };
    a.persist({ hardState, records: [{ ...recordOf(batch, true), ballot }], committed: [batch], mustSync: true });
    a.close();
    a = SqliteLog.open({ path: pathA, dedupIdsMax: 10 });
    assert.deepEqual(a.hardState(), hardState);
    assert.deepEqual(a.records({ instanceFrom: 1, instanceTo: 1, recordsMax: 1 })[0]?.ballot, ballot, 'a record keeps its ballot\'s incarnation');
    a.close();
    SqliteLog.adoptSnapshot({ path: pathA, own: { hardState: b.hardState(), epoch: 4, records: [] } });
    a = SqliteLog.open({ path: pathA, dedupIdsMax: 10 });
    assert.equal(a.hardState().incarnation, incarnationB, 'the snapshot became the adopter\'s store, with its incarnation');
    assert.deepEqual(a.hardState().promised, ballot, 'and the higher promise of the two');
    a.close();
    b.close();
  });

  it('brings a schema-3 store to schema 4: its ballots read back with incarnation 0, checksums verified, and it draws an incarnation', () => {
    const path = pathFresh();
    let log = SqliteLog.open({ path, dedupIdsMax: 10 });
    const batches = batchesBulk({ instanceFirst: 1, offsetFirst: 0, count: 3, entriesPerBatch: 2, dataBytes: 8 });
    const old = { round: 3, replica: 2, incarnation: 0 };
    const records = batches.map((batch) => ({ ...recordOf(batch, true), ballot: old }));
    log.persist({ hardState: { promised: old, roundMax: 3, incarnation: log.hardState().incarnation }, records, committed: batches, mustSync: true });
    const entries = log.readEntries({ from: 0, limit: 100 });
    log.close();
    // What schema 3 wrote: no ballot_incarnation column, no incarnation in meta.
    const raw = new Database(path);
    raw.exec('ALTER TABLE records DROP COLUMN ballot_incarnation');
    // Each row's checksum as schema 3 computed it, written here by that formula, not by this build's.
    type Row = { instance: number; ballot_round: number; ballot_replica: number; chosen: number; value_id: string; value_checksum: number };
    for (const row of raw.prepare<[], Row>('SELECT instance, ballot_round, ballot_replica, chosen, value_id, value_checksum FROM records').all()) {
      const text = `r1|${row.instance}|${row.ballot_round}|${row.ballot_replica}|${row.chosen}|${row.value_checksum}|${row.value_id.length}|${row.value_id}`;
      raw.prepare('UPDATE records SET checksum = ? WHERE instance = ?').run(crc32(text), row.instance);
    }
    raw.prepare("DELETE FROM meta WHERE key IN ('incarnation', 'promised_incarnation')").run();
    raw.prepare("UPDATE meta SET value = 3, checksum = ? WHERE key = 'schema_version'").run(metaChecksum({ key: 'schema_version', value: 3 }));
    raw.close();
    log = SqliteLog.open({ path, dedupIdsMax: 10 });
    const { incarnation } = log.hardState();
    assert.ok(Number.isSafeInteger(incarnation) && incarnation >= 1 && incarnation < 2 ** 48, `incarnation ${incarnation}`);
    assert.deepEqual(log.hardState(), { promised: old, roundMax: 3, incarnation });
    assert.deepEqual(log.records({ instanceFrom: 1, instanceTo: 3, recordsMax: 3 }), records);
    assert.deepEqual(log.readEntries({ from: 0, limit: 100 }), entries);
    const newer = { round: 4, replica: 1, incarnation };
    log.persist({ hardState: { promised: newer, roundMax: 4, incarnation }, records: [{ ...records[2]!, ballot: newer }], committed: [], mustSync: true });
    log.close();
    log = SqliteLog.open({ path, dedupIdsMax: 10 });
    assert.equal(log.hardState().incarnation, incarnation, 'migrated once, not again');
    assert.deepEqual(log.records({ instanceFrom: 3, instanceTo: 3, recordsMax: 1 })[0]?.ballot, newer, 'a head rewrite on a migrated row');
    log.close();
    const check = new Database(path, { readonly: true });
    assert.equal(check.prepare<[], { value: number }>("SELECT value FROM meta WHERE key = 'schema_version'").get()?.value, 4);
    check.close();
  });
});

describe('SqliteLog: opening', () => {
  it('sets WAL and synchronous=FULL on every open and reads both back', () => {
    const path = pathFresh();
    SqliteLog.open({ path, dedupIdsMax: 10 }).close();
    const raw = new Database(path);
    assert.equal(raw.pragma('journal_mode', { simple: true }), 'wal');
    assert.equal(raw.pragma('synchronous', { simple: true }), 1, 'better-sqlite3 reopens a WAL database as NORMAL');
    raw.close();
    const log = SqliteLog.open({ path, dedupIdsMax: 10 });
    assert.deepEqual(log.pragmas(), { journalMode: 'wal', synchronous: 2 });
    log.close();
  });

  it('syncs a Ready with a promise or an accept; writes chosen marks and batches unsynced, then is back at FULL', () => {
    const ballot = { round: 1, replica: 1, incarnation: 5 };
    const value: Value = { valueId: 'v1', entries: [{ data: bytes('x') }], timestampMs: 5 };
    const accept: InstanceRecord = { instance: 1, ballot, value, chosen: false };
    assert.equal(readyMustSync({ hardState: { promised: ballot, roundMax: 1, incarnation: 5 }, records: [] }), true);
    assert.equal(readyMustSync({ hardState: null, records: [{ ...accept, chosen: true }, accept] }), true);
    assert.equal(readyMustSync({ hardState: null, records: [{ ...accept, chosen: true }] }), false);
    assert.equal(readyMustSync({ hardState: null, records: [] }), false);
    const log = SqliteLog.open({ path: pathFresh(), dedupIdsMax: 10 });
    log.persist({ ...noWrites, records: [accept] });
    log.persist({ ...noWrites, records: [{ ...accept, chosen: true }], mustSync: false });
    assert.deepEqual(log.pragmas(), { journalMode: 'wal', synchronous: 2 });
    assert.equal(log.records({ instanceFrom: 1, instanceTo: 1, recordsMax: 1 })[0]?.chosen, true);
    log.close();
  });

  it('refuses a database that cannot run in WAL mode, and a foreign schema version', () => {
    assert.throws(() => SqliteLog.open({ path: ':memory:', dedupIdsMax: 10 }), /journal_mode reads back as memory, expected 'wal'/);
    const path = pathFresh();
    SqliteLog.open({ path, dedupIdsMax: 10 }).close();
    const raw = new Database(path);
    const checksum = metaChecksum({ key: 'schema_version', value: 99 });
    raw.prepare("UPDATE meta SET value = 99, checksum = ? WHERE key = 'schema_version'").run(checksum);
    raw.close();
    assert.throws(() => SqliteLog.open({ path, dedupIdsMax: 10 }), /schema_version 99, this build reads 4/);
  });

  it('epochNext starts above a random base, one per store, and keeps increasing across reopens', () => {
    const path = pathFresh();
    let log = SqliteLog.open({ path, dedupIdsMax: 10 });
    const base = log.epoch();
    assert.ok(Number.isSafeInteger(base) && base >= 0 && base < epochBasesMax, `base ${base}`);
    assert.deepEqual([log.epochNext(), log.epochNext()], [base + 1, base + 2]);
    log.close();
    log = SqliteLog.open({ path, dedupIdsMax: 10 });
    assert.deepEqual([log.epochNext(), log.epochNext()], [base + 3, base + 4]);
    log.close();
    const other = SqliteLog.open({ path: pathFresh(), dedupIdsMax: 10 });
    assert.notEqual(other.epoch(), base, 'a lost disk\'s replacement does not count its lease epochs from the same place');
    other.close();
  });
});

describe('SqliteLog: hard state and records', () => {
  it('round-trips the hard state and refuses one that goes backwards', () => {
    const path = pathFresh();
    let log = SqliteLog.open({ path, dedupIdsMax: 10 });
    const { incarnation } = log.hardState();
    assert.ok(Number.isSafeInteger(incarnation) && incarnation >= 1 && incarnation < 2 ** 48, `incarnation ${incarnation}`);
    assert.deepEqual(log.hardState(), { promised: { round: 0, replica: 0, incarnation: 0 }, roundMax: 0, incarnation, rebuilding: true }, 'a new store rebuilds before it votes');
    const hardState: HardState = { promised: { round: 7, replica: 2, incarnation: 12 }, roundMax: 9, incarnation };
    log.persist({ ...noWrites, hardState });
    log.close();
    log = SqliteLog.open({ path, dedupIdsMax: 10 });
    assert.deepEqual(log.hardState(), hardState);
    assert.throws(() => log.persist({ ...noWrites, hardState: { promised: { round: 7, replica: 2, incarnation: 11 }, roundMax: 9, incarnation } }), InvariantError);
    assert.throws(() => log.persist({ ...noWrites, hardState: { promised: { round: 8, replica: 1, incarnation: 0 }, roundMax: 8, incarnation } }), InvariantError);
    assert.throws(() => log.persist({ ...noWrites, hardState: { ...hardState, incarnation: incarnation + 1 } }), /incarnation changes/);
    assert.deepEqual(log.hardState(), hardState);
    log.close();
  });

  it('records() and instanceMax() match MemoryLogStore over random writes, replacements and chosen marks', () => {
    const random = new SeededRandom(42);
    const memory = new MemoryLogStore();
    const path = pathFresh();
    let log = SqliteLog.open({ path, dedupIdsMax: 10 });
    const compare = (): void => {
      assert.equal(log.instanceMax(), memory.instanceMax());
      for (let probe = 0; probe < 20; probe++) {
        const instanceFrom = random.int(0, 70);
        const range = { instanceFrom, instanceTo: instanceFrom + random.int(-2, 40), recordsMax: random.int(0, 30) };
        assert.deepEqual(log.records(range), memory.records(range), JSON.stringify(range));
      }
    };
    for (let step = 0; step < 300; step++) {
      const records: InstanceRecord[] = [];
      for (let count = random.int(1, 4); count > 0; count--) {
        const instance = random.int(1, 60);
        const ballot = { round: random.int(1, 9), replica: random.int(1, 5), incarnation: random.int(0, 3) };
        const [known] = memory.records({ instanceFrom: instance, instanceTo: instance, recordsMax: 1 });
        const value = known !== undefined && random.next() < 0.3 ? known.value : randomValue(random, { valueId: `${step}:${count}`, idPool: 50 });
        records.push({ instance, ballot, value, chosen: random.next() < 0.4 });
      }
      if (random.next() < 0.2 && records[0] !== undefined) records.push({ ...records[0], chosen: true });
      memory.write(records);
      log.persist({ ...noWrites, records });
      if (step % 50 === 0) compare();
      if (step % 97 === 0) {
        log.close();
        log = SqliteLog.open({ path, dedupIdsMax: 10 });
      }
    }
    compare();
    const [first] = memory.records({ instanceFrom: 1, instanceTo: 60, recordsMax: 1 });
    assert.ok(first !== undefined);
    const impostor = { ...first, value: { ...first.value, entries: [{ data: bytes('other') }] } };
    assert.throws(() => log.persist({ ...noWrites, records: [impostor] }), /names two values/);
    const everything = { instanceFrom: 1, instanceTo: 60, recordsMax: 100 };
    assert.deepEqual(log.records(everything), memory.records(everything));
    log.close();
  });
});

describe('SqliteLog: committed entries and the learner state', () => {
  it("learnerState() equals a MemoryStateMachine's after the same batches, dedup eviction included", () => {
    const dedupIdsMax = 8;
    const batches = batchesFromLearner({ seed: 7, valuesCount: 600, idPool: 40, dedupIdsMax });
    assert.ok(batches.some((b) => b.results.some((r) => r.status === 'duplicate')), 'the batches exercise dedup');
    const machine = new MemoryStateMachine({ state: learnerStateEmpty, entries: [], dedupIdsMax });
    const path = pathFresh();
    let log = SqliteLog.open({ path, dedupIdsMax });
    const random = new SeededRandom(8);
    let chunks = 0;
    for (let next = 0; next < batches.length; chunks++) {
      const chunk = batches.slice(next, next + random.int(1, 5));
      next += chunk.length;
      for (const batch of chunk) machine.apply(batch);
      log.persist(committedReady(chunk));
      assert.deepEqual(log.learnerState(), machine.learnerState(), `after batch ${next}`);
      if (chunks % 40 === 39) {
        log.close();
        log = SqliteLog.open({ path, dedupIdsMax });
        assert.deepEqual(log.learnerState(), machine.learnerState(), `after reopening at batch ${next}`);
      }
    }
    assert.equal(log.learnerState().dedup.length, dedupIdsMax);
    assert.ok(machine.entries.filter((e) => e.id !== undefined).length > 40, 'ids evicted from the window came back');
    assert.equal(log.offsetNext, machine.entries.length);
    assert.equal(log.entryCount, machine.entries.length);
    assert.equal(log.committedInstance, 600);
    assert.deepEqual(log.readEntries({ from: 0, limit: 1e6 }), machine.entries);
    log.close();
    log = SqliteLog.open({ path, dedupIdsMax, cachedBytesMax: 0 });
    assert.deepEqual(log.learnerState(), machine.learnerState(), 'decoded from disk, nothing cached');
    assert.deepEqual(log.readEntries({ from: 0, limit: 1e6 }), machine.entries, 'decoded from disk, nothing cached');
    assert.deepEqual(log.readEntries({ from: 10, limit: 5 }), machine.entries.slice(10, 15));
    assert.deepEqual(log.readEntries({ from: machine.entries.length, limit: 5 }), []);
    log.close();
  });

  it('a Learner restarted from learnerState() releases the same results as one that never stopped', () => {
    const dedupIdsMax = 5;
    const random = new SeededRandom(11);
    const values = Array.from({ length: 300 }, (_, index) => randomValue(random, { valueId: `v${index + 1}`, idPool: 20 }));
    const straight = new Learner(learnerStateEmpty, { dedupIdsMax });
    values.forEach((value, index) => straight.add(index + 1, value));
    const expected = straight.release();
    const log = SqliteLog.open({ path: pathFresh(), dedupIdsMax });
    let learner = new Learner(learnerStateEmpty, { dedupIdsMax });
    const released: CommittedBatch[] = [];
    values.forEach((value, index) => {
      learner.add(index + 1, value);
      const batches = learner.release();
      log.persist({ ...noWrites, records: [{ instance: index + 1, ballot: { round: 1, replica: 1, incarnation: 0 }, chosen: true, value }], committed: batches });
      released.push(...batches);
      if (index % 7 === 0) learner = new Learner(log.learnerState(), { dedupIdsMax });
    });
    assert.deepEqual(released, expected);
    log.close();
  });

});

describe('SqliteLog: packed reads', () => {
  /** A packed page's entries, through the wire as a client gets them. */
  function unpacked(page: ReturnType<SqliteLog['readPacked']>): { entries: unknown[]; offsetNext: number } {
    for (const segment of page.segments) assert.equal(typeof tuplesDecode(segment), 'object', 'every segment decodes');
    const decoded = decodeReadReply(encodeReadReply({ v: 1, ok: true, packed: page.segments, offsetNext: page.offsetNext }), { bytesMax: 1 << 24 });
    assert.ok(decoded.ok && decoded.reply.ok, decoded.ok ? 'an ok reply' : decoded.detail);
    assert.equal(decoded.reply.entries.length, page.count);
    return { entries: [...decoded.reply.entries], offsetNext: decoded.reply.offsetNext };
  }

  it("gives readPage's entries and offsetNext for every from, key and limit, skipped positions and all", () => {
    const batches = batchesFromLearner({ seed: 21, valuesCount: 300, idPool: 60, dedupIdsMax: 20 });
    assert.ok(batches.some((b) => b.results.some((r) => r.status !== 'ok')), 'some batches have skipped positions');
    for (const cachedBytesMax of [64 << 20, 0]) {
      const log = SqliteLog.open({ path: pathFresh(), dedupIdsMax: 20, cachedBytesMax });
      log.persist(committedReady(batches));
      const random = new SeededRandom(22);
      for (let trial = 0; trial < 400; trial++) {
        const key = random.next() < 0.3 ? `key-${random.int(1, 5)}` : undefined;
        const options = { from: random.int(0, log.offsetNext + 2), entriesMax: random.int(1, 300), bytesMax: 1 << 24, ...(key === undefined ? {} : { key, scanMax: random.int(1, 200) }) };
        const page = log.readPage(options);
        assert.deepEqual(unpacked(log.readPacked(options)), page, `trial ${trial}: ${JSON.stringify(options)}`);
      }
      log.close();
    }
  });

  it('bounds a page by bytes as encoded, one entry at least, each page following the last', () => {
    const batches = batchesBulk({ instanceFirst: 1, offsetFirst: 0, count: 20, entriesPerBatch: 50, dataBytes: 300 });
    const log = SqliteLog.open({ path: pathFresh(), dedupIdsMax: 1_000 });
    log.persist(committedReady(batches));
    const all = log.readPage({ from: 0, entriesMax: 4_096, bytesMax: 1 << 24 }).entries;
    for (const bytesMax of [1, 1_000, 20_000, 100_000]) {
      const seen: unknown[] = [];
      for (let from = 0; from < all.length; ) {
        const page = log.readPacked({ from, entriesMax: 4_096, bytesMax });
        const { entries, offsetNext } = unpacked(page);
        const encoded = encodeReadReply({ v: 1, ok: true, packed: page.segments, offsetNext }).byteLength;
        assert.ok(entries.length >= 1, `bytesMax ${bytesMax} from ${from}: an entry at least`);
        if (entries.length > 1) assert.ok(encoded <= bytesMax + 64, `bytesMax ${bytesMax}: the reply is ${encoded} bytes`);
        assert.equal(offsetNext, from + entries.length);
        seen.push(...entries);
        from = offsetNext;
      }
      assert.deepEqual(seen, all, `bytesMax ${bytesMax}: the pages together are the log`);
    }
    assert.equal(log.readPacked({ from: all.length, entriesMax: 10, bytesMax: 1 << 20 }).count, 0);
    log.close();
  });
});

describe('SqliteLog: persist() atomicity', () => {
  it('throws on a batch or an offset out of sequence and stores nothing of that Ready', () => {
    const log = SqliteLog.open({ path: pathFresh(), dedupIdsMax: 10 });
    const [first, second] = batchesBulk({ instanceFirst: 1, offsetFirst: 0, count: 2, entriesPerBatch: 3, dataBytes: 10 });
    assert.ok(first !== undefined && second !== undefined);
    const hardState: HardState = { promised: { round: 3, replica: 1, incarnation: 0 }, roundMax: 3, incarnation: log.hardState().incarnation };
    const ready = (committed: CommittedBatch[]): PersistInput => ({ hardState, records: [recordOf(first, true), recordOf(second, true)], committed, mustSync: true });
    assert.throws(() => log.persist(ready([second])), /batch 2 persisted after 0/);
    const shifted = { ...first, entries: first.entries.map((entry) => ({ ...entry, offset: entry.offset + 1 })), offsetNext: 4 };
    assert.throws(() => log.persist(ready([shifted])), /offset 1, expected 0/);
    assert.throws(() => log.persist(ready([{ ...first, offsetNext: 5 }])), /offsetNext 5, its entries end at 3/);
    assert.throws(() => log.persist(ready([first, first])), /batch 1 persisted after 1/);
    assert.throws(() => log.persist({ ...ready([first]), records: [recordOf(first, false)] }), /batch 1: no chosen record of 1.1:1/);
    const other = { ...recordOf(first, true), value: { ...recordOf(first, true).value, valueId: '2.1:1' } };
    assert.throws(() => log.persist({ ...ready([first]), records: [other] }), /batch 1: no chosen record of 1.1:1/);
    assert.deepEqual(log.hardState(), { promised: ballotZero, roundMax: 0, incarnation: hardState.incarnation, rebuilding: true }, 'a new store rebuilds before it votes');
    assert.equal(log.instanceMax(), 0);
    assert.deepEqual([log.entryCount, log.offsetNext, log.committedInstance], [0, 0, 0]);
    log.persist(ready([first, second]));
    assert.deepEqual([log.entryCount, log.offsetNext, log.committedInstance, log.instanceMax()], [6, 6, 2, 2]);
    log.close();
  });
});

describe('SqliteLog: checksums', () => {
  it('detects a flipped byte in a record, a batch row and a meta row, naming the table and key', () => {
    const path = pathFresh();
    const log = SqliteLog.open({ path, dedupIdsMax: 100 });
    const batches = batchesBulk({ instanceFirst: 1, offsetFirst: 0, count: 3, entriesPerBatch: 4, dataBytes: 16 });
    const hardState: HardState = { promised: { round: 2, replica: 1, incarnation: 0 }, roundMax: 2, incarnation: log.hardState().incarnation };
    log.persist({ hardState, records: batches.map((b) => recordOf(b, true)), committed: batches, mustSync: true });
    log.close();
    const raw = new Database(path);
    const flip = (sql: { select: string; update: string; key: number }): void => {
      const row = raw.prepare<[number], { blob: Buffer }>(sql.select).get(sql.key);
      assert.ok(row !== undefined);
      row.blob[row.blob.length - 1]! ^= 0x01;
      raw.prepare(sql.update).run(row.blob, sql.key);
    };
    // Offsets 4 to 7 are instance 2's value: reads, the dedup window and fetches all find the flip.
    flip({ select: 'SELECT value AS blob FROM records WHERE instance = ?', update: 'UPDATE records SET value = ? WHERE instance = ?', key: 2 });
    const corrupt = (table: string, key: string) => (error: unknown) =>
      error instanceof CorruptionError && error.table === table && error.key === key && /checksum mismatch/.test(error.message);
    const reopened = (): SqliteLog => SqliteLog.open({ path, dedupIdsMax: 100, cachedBytesMax: 0 });
    const reader = reopened();
    assert.throws(() => reader.readEntries({ from: 0, limit: 100 }), corrupt('records', 'instance 2'));
    assert.throws(() => reader.learnerState(), corrupt('records', 'instance 2'), 'the dedup window reads it too');
    assert.throws(() => reader.records({ instanceFrom: 1, instanceTo: 3, recordsMax: 10 }), corrupt('records', 'instance 2'));
    assert.equal(reader.records({ instanceFrom: 3, instanceTo: 3, recordsMax: 10 }).length, 1);
    assert.deepEqual(reader.readEntries({ from: 8, limit: 100 }), batches[2]!.entries);
    raw.prepare('UPDATE batches SET offset_first = 7 WHERE instance = 3').run();
    assert.throws(() => reader.readEntries({ from: 8, limit: 100 }), corrupt('batches', 'instance 3'), 'the checksum covers the batch row');
    reader.close();
    raw.prepare("UPDATE meta SET value = value + 1 WHERE key = 'round_max'").run();
    assert.throws(() => reopened(), corrupt('meta', 'round_max'), 'open reads the hard state');
    raw.close();
  });

  it('a committed batch is its record minus the skipped positions: a record that disagrees is corruption', () => {
    const path = pathFresh();
    const log = SqliteLog.open({ path, dedupIdsMax: 100 });
    const batches = batchesFromLearner({ seed: 5, valuesCount: 80, idPool: 30, dedupIdsMax: 100 });
    const refused = batches.find((batch) => batch.entries.length > 0 && batch.results.some((r) => r.status !== 'ok'));
    assert.ok(refused !== undefined, 'some batch has a duplicate or a conflict');
    log.persist(committedReady(batches));
    const expected = log.readEntries({ from: 0, limit: 1e6 });
    log.close();
    const reader = SqliteLog.open({ path, dedupIdsMax: 100, cachedBytesMax: 0 });
    assert.deepEqual(reader.readEntries({ from: 0, limit: 1e6 }), expected, 'read from disk as written');
    const raw = new Database(path);
    raw.prepare('UPDATE batches SET skipped = NULL WHERE instance = ?').run(refused.instance);
    const recomputed = batchChecksum({
      instance: refused.instance,
      offsetFirst: refused.offsetNext - refused.entries.length,
      offsetNext: refused.offsetNext,
      bytesBefore: raw.prepare<[number], { b: number }>('SELECT bytes_before AS b FROM batches WHERE instance = ?').get(refused.instance)!.b,
      timestampMs: refused.timestampMs,
      skipped: null,
    });
    raw.prepare('UPDATE batches SET checksum = ? WHERE instance = ?').run(recomputed, refused.instance);
    raw.close();
    const from = refused.offsetNext - refused.entries.length;
    assert.throws(
      () => reader.readEntries({ from, limit: 1e6 }),
      (error: unknown) => error instanceof CorruptionError && error.table === 'batches' && error.key === `instance ${refused.instance}`,
    );
    reader.close();
  });
});

describe('SqliteLog: throughput', () => {
  it('persists 1000-entry transactions of 100-byte entries (printed, not asserted)', () => {
    const log = SqliteLog.open({ path: pathFresh(), dedupIdsMax: 100_000 });
    const transactions = 200;
    const batches = batchesBulk({ instanceFirst: 1, offsetFirst: 0, count: 2 * transactions, entriesPerBatch: 1000, dataBytes: 100 });
    const measure = (label: string, readies: PersistInput[]): void => {
      const started = performance.now();
      for (const ready of readies) log.persist(ready);
      const seconds = (performance.now() - started) / 1000;
      const entries = readies.length * 1000;
      const entriesPerSecond = Math.round(entries / seconds).toLocaleString('en');
      console.log(`sqlite ${label}: ${entriesPerSecond} entries/s, ${Math.round(readies.length / seconds)} transactions/s`);
    };
    measure('chosen record + batch', batches.slice(0, transactions).map((batch) => committedReady([batch])));
    const full = batches.slice(transactions).map((batch, index): PersistInput => {
      const next = batches[transactions + index + 1];
      const records = [...(next === undefined ? [] : [recordOf(next, false)]), recordOf(batch, true)];
      return { hardState: { promised: { round: 1, replica: 1, incarnation: 0 }, roundMax: 1, incarnation: log.hardState().incarnation }, records, committed: [batch], mustSync: true };
    });
    measure('full Ready (the next value accepted + this one chosen and committed + hard state)', full);
    const started = performance.now();
    const state = log.learnerState();
    console.log(`sqlite learnerState() with a ${state.dedup.length}-id window: ${Math.round(performance.now() - started)} ms`);
    assert.equal(log.offsetNext, 2 * transactions * 1000);
    log.close();
  });
});

describe('SqliteLog: a full disk', () => {
  it('persist() throws when the disk fills; every earlier batch reads back intact and no partial one is visible', () => {
    const dir = mkdtempSync(join(tmpdir(), 'paxlog-full-'));
    mountTmpfs({ dir, size: '300k' });
    try {
      diskFillAndCheck(dir);
    } finally {
      execFileSync('umount', ['--lazy', dir]);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

function mountTmpfs(options: { dir: string; size: string }): void {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${options.size}`, 'tmpfs', options.dir], { stdio: 'pipe' });
  } catch (error) {
    rmSync(options.dir, { recursive: true, force: true });
    const detail = (error as { stderr?: Buffer }).stderr?.toString().trim() ?? String(error);
    throw new Error(`the full-disk test must mount a ${options.size} tmpfs (run as root with CAP_SYS_ADMIN); mount failed: ${detail}`);
  }
}

function diskFillAndCheck(dir: string): void {
  const path = join(dir, 'log.db');
  const dedupIdsMax = 50;
  let log = SqliteLog.open({ path, dedupIdsMax });
  const { incarnation } = log.hardState();
  const model = new MemoryStateMachine({ state: learnerStateEmpty, entries: [], dedupIdsMax });
  let failure: unknown = null;
  let failed: PersistInput | null = null;
  for (let instance = 1; instance <= 10_000 && failure === null; instance++) {
    const offsetFirst = model.learnerState().offsetNext;
    const [batch] = batchesBulk({ instanceFirst: instance, offsetFirst, count: 1, entriesPerBatch: 20, dataBytes: 200 });
    assert.ok(batch !== undefined);
    const hardState: HardState = { promised: { round: instance, replica: 1, incarnation: 0 }, roundMax: instance, incarnation };
    const ready: PersistInput = { hardState, records: [recordOf(batch, true)], committed: [batch], mustSync: true };
    try {
      log.persist(ready);
      model.apply(batch);
    } catch (error) {
      failure = error;
      failed = ready;
    }
  }
  assert.ok(failure !== null && failed !== null, 'the 300k tmpfs never filled up');
  const code = String((failure as { code?: unknown }).code);
  assert.match(code, /^SQLITE_(FULL|IOERR)/, `persist() threw ${String(failure)}`);
  const committed = model.learnerState();
  console.log(`sqlite full disk: ${code} after ${committed.committedInstance} batches (${committed.offsetNext} entries)`);
  assert.ok(committed.committedInstance >= 2, 'the disk filled before any batch was written');
  logMatchesModel({ log, model, incarnation });
  log.close();
  execFileSync('mount', ['-o', 'remount,size=16m', dir]);
  log = SqliteLog.open({ path, dedupIdsMax });
  logMatchesModel({ log, model, incarnation });
  const raw = new Database(path, { readonly: true });
  assert.equal(raw.pragma('integrity_check', { simple: true }), 'ok');
  raw.close();
  log.persist(failed);
  for (const batch of failed.committed) model.apply(batch);
  logMatchesModel({ log, model, incarnation });
  log.close();
}

/** Every committed offset reads back (checksums verified) and nothing beyond the last full batch. */
function logMatchesModel(options: { log: SqliteLog; model: MemoryStateMachine; incarnation: number }): void {
  const { log, model, incarnation } = options;
  const state = model.learnerState();
  assert.deepEqual(log.learnerState(), state);
  assert.deepEqual(log.readEntries({ from: 0, limit: 1e6 }), model.entries);
  assert.equal(log.entryCount, state.offsetNext);
  assert.equal(log.instanceMax(), state.committedInstance);
  assert.deepEqual(log.hardState(), { promised: { round: state.committedInstance, replica: 1, incarnation: 0 }, roundMax: state.committedInstance, incarnation });
  const records = log.records({ instanceFrom: 1, instanceTo: 1e9, recordsMax: 1e6 });
  assert.deepEqual(records.map((r) => r.instance), Array.from({ length: state.committedInstance }, (_, i) => i + 1));
}

describe('SqliteLog: retention', () => {
  /** The horizon the policy asks for, computed the slow and obvious way over every batch so far. */
  function horizonModel(batches: readonly CommittedBatch[], policy: RetentionPolicy, previous: number): number {
    const last = batches[batches.length - 1]!;
    const offsetNext = last.offsetNext;
    let horizon = previous;
    const starts: Array<{ offsetFirst: number; bytesBefore: number; timestampMs: number }> = [];
    let offset = 0;
    let bytes = 0;
    for (const batch of batches) {
      starts.push({ offsetFirst: offset, bytesBefore: bytes, timestampMs: batch.timestampMs });
      for (const entry of batch.entries) bytes += entry.data.byteLength;
      offset = batch.offsetNext;
    }
    if (policy.entriesMax !== undefined) horizon = Math.max(horizon, offsetNext - policy.entriesMax);
    if (policy.bytesMax !== undefined) horizon = Math.max(horizon, starts.find((s) => s.bytesBefore >= bytes - policy.bytesMax!)?.offsetFirst ?? offsetNext);
    if (policy.ageMsMax !== undefined) horizon = Math.max(horizon, starts.find((s) => s.timestampMs >= last.timestampMs - policy.ageMsMax!)?.offsetFirst ?? offsetNext);
    return Math.min(horizon, offsetNext);
  }

  const policies: RetentionPolicy[] = [{ entriesMax: 50 }, { bytesMax: 700 }, { ageMsMax: 400 }, { entriesMax: 120, bytesMax: 900, ageMsMax: 900 }];
  for (const policy of policies) {
    it(`truncates where a model of the policy says, keeps the dedup window across truncation and reopening: ${retentionText(policy)}`, () => {
      const dedupIdsMax = 30;
      const batches = batchesFromLearner({ seed: 11, valuesCount: 500, idPool: 400, dedupIdsMax });
      const machine = new MemoryStateMachine({ state: learnerStateEmpty, entries: [], dedupIdsMax });
      const path = pathFresh();
      let log = SqliteLog.open({ path, dedupIdsMax, retention: policy });
      let horizon = 0;
      for (let next = 0, chunk = 1; next < batches.length; chunk++) {
        const slice = batches.slice(next, next + 1 + (chunk % 4));
        next += slice.length;
        for (const batch of slice) machine.apply(batch);
        log.persist(committedReady(slice));
        horizon = horizonModel(batches.slice(0, next), policy, horizon);
        assert.equal(log.horizonOffset, horizon, `horizon after batch ${next}`);
        assert.deepEqual(log.learnerState(), machine.learnerState(), `learner state after batch ${next}`);
        if (chunk % 25 === 0) {
          log.close();
          log = SqliteLog.open({ path, dedupIdsMax, retention: policy });
          assert.deepEqual(log.learnerState(), machine.learnerState(), `after reopening at batch ${next}`);
        }
      }
      assert.ok(horizon > 0, 'the policy truncated something');
      assert.deepEqual(log.readEntries({ from: horizon, limit: 1e6 }), machine.entries.slice(horizon));
      log.close();
      log = SqliteLog.open({ path, dedupIdsMax, retention: policy, cachedBytesMax: 0 });
      assert.deepEqual(log.readEntries({ from: horizon, limit: 1e6 }), machine.entries.slice(horizon), 'decoded from disk');
      assert.deepEqual(log.learnerState(), machine.learnerState(), 'decoded from disk');
      assert.throws(() => log.readPage({ from: horizon - 1, entriesMax: 10, bytesMax: 1e6 }), (error: unknown) => {
        assert.ok(error instanceof BeforeHorizonError);
        assert.equal(error.offsetFirst, horizon);
        return true;
      });
      const compacted = log.compactedInstance();
      assert.ok(compacted >= 1 && batches[compacted - 1]!.offsetNext <= horizon, 'compacted instances hold no kept entry');
      assert.ok(batches[compacted]!.offsetNext > horizon, 'the first kept instance holds a kept entry');
      log.close();
    });
  }

  it('drops the records of compacted instances', () => {
    const batches = batchesBulk({ instanceFirst: 1, offsetFirst: 0, count: 10, entriesPerBatch: 5, dataBytes: 10 });
    const log = SqliteLog.open({ path: pathFresh(), dedupIdsMax: 100, retention: { entriesMax: 12 } });
    log.persist({ ...noWrites, records: batches.map((b) => recordOf(b, true)), committed: batches });
    assert.equal(log.horizonOffset, 38);
    assert.equal(log.compactedInstance(), 7);
    assert.deepEqual(log.records({ instanceFrom: 1, instanceTo: 10, recordsMax: 100 }).map((r) => r.instance), [8, 9, 10]);
    assert.equal(log.instanceMax(), 10);
    log.close();
  });
});

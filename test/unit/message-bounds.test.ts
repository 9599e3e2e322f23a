import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { encode } from '@msgpack/msgpack';
import { paxosLimitsDefault } from '../../src/log/limits.js';
import { committedEntryBytes, type Entry, entryBytes, utf8Bytes } from '../../src/log/types.js';
import { SqliteLog } from '../../src/storage/SqliteLog.js';
import { encodeReadReply } from '../../src/transport/clientWire.js';
import { decodePeerBatch, encodePeerBatch } from '../../src/transport/wire.js';
import { TestCluster } from '../helpers/TestCluster.js';

/** NATS's default max_payload: every paxlog message must fit it. */
const natsMessageBytesMax = 1 << 20;
const texts = ['', 'order-42', 'é'.repeat(256), '€'.repeat(256), '😀'.repeat(128), 'a\ud800b', `x${'€'.repeat(255)}`];

/** 220 entries with 240 three-byte characters in each id: about 170 KB on the wire, under batchBytesMax as counted. */
function wideEntries(tag: string): Entry[] {
  return Array.from({ length: 220 }, (_, i) => ({ data: new Uint8Array(8), id: `${tag}-${i}-${'€'.repeat(240)}` }));
}

describe('byte bounds count what goes on the wire', () => {
  const dir = mkdtempSync(join(tmpdir(), 'paxlog-bounds-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('utf8Bytes is the UTF-8 length; entryBytes and committedEntryBytes are at least an entry\'s msgpack size', () => {
    for (const text of texts) assert.equal(utf8Bytes(text), Buffer.byteLength(text, 'utf8'), JSON.stringify(text));
    for (const id of texts.filter((t) => t !== '')) {
      const full: Entry = { data: new Uint8Array(100), id, key: 'k'.repeat(256), expectedOffset: Number.MAX_SAFE_INTEGER };
      assert.ok(entryBytes(full) >= encode(full).byteLength, `entry with id ${JSON.stringify(id.slice(0, 8))}`);
      const committed = { offset: Number.MAX_SAFE_INTEGER, data: new Uint8Array(100), id, key: 'k'.repeat(256), timestampMs: Number.MAX_SAFE_INTEGER };
      assert.ok(committedEntryBytes(committed) >= encode(committed).byteLength, `committed entry with id ${JSON.stringify(id.slice(0, 8))}`);
    }
  });

  it('a batch whose ids are 3 bytes a character is refused as too-large when its UTF-8 passes batchBytesMax', () => {
    const cluster = new TestCluster(3);
    cluster.core(1).campaign();
    cluster.settle();
    const entries = Array.from({ length: 880 }, (_, i) => ({ data: new Uint8Array(0), id: `${i}${'€'.repeat(240)}` }));
    assert.ok(encode(entries).byteLength > paxosLimitsDefault.batchBytesMax, 'the batch is over the bound on the wire');
    const proposal = cluster.propose(1, entries);
    cluster.settle();
    assert.equal((cluster.node(1).outcomes.get(proposal) as { reason: string }).reason, 'too-large');
  });

  it('promise and fetched pages of wide values stay within their byte bounds, so each fits one NATS message', () => {
    const cluster = new TestCluster(3);
    cluster.core(1).campaign();
    cluster.settle();
    cluster.isolate(3);
    for (let i = 0; i < 8; i++) cluster.propose(1, wideEntries(`v${i}`));
    cluster.settle();
    cluster.heal();
    cluster.core(3).campaign(); // its prepare asks for every record from instance 1: pages of them
    cluster.settle();
    cluster.tick(30);
    cluster.settle();
    const pages = cluster.sent.filter((envelope) => envelope.message.type === 'promise' || envelope.message.type === 'fetched');
    const sizes = pages.map(({ to, message }) => encodePeerBatch({ v: 1, log: 'bounds', from: message.from, to, messages: [message] }).byteLength);
    const widest = Math.max(...sizes);
    assert.ok(pages.some((page) => page.message.type === 'promise' && page.message.records.length > 1), 'some promise page holds several records');
    assert.ok(widest <= paxosLimitsDefault.promiseBytesMax, `the widest page is ${widest} bytes`);
    assert.ok(widest < natsMessageBytesMax);
    assert.deepEqual([...cluster.logs().values()].map((log) => log.length), [8 * 220, 8 * 220, 8 * 220], 'and replica 3 learned everything');
    const decoded = decodePeerBatch(encodePeerBatch({ v: 1, log: 'bounds', from: 1, to: 2, messages: [pages[0]!.message] }), { bytesMax: natsMessageBytesMax });
    assert.ok(decoded.ok);
  });

  it('a read page of wide entries stays within bytesMax as encoded, at least one entry always', () => {
    const log = SqliteLog.open({ path: join(dir, 'read.db'), dedupIdsMax: 100_000 });
    const cluster = new TestCluster(3);
    cluster.core(1).campaign();
    cluster.settle();
    for (let i = 0; i < 8; i++) cluster.propose(1, wideEntries(`r${i}`).map((e, j) => ({ ...e, key: `k${j}.${'x'.repeat(200)}` })));
    cluster.settle();
    const committed = cluster.readies.filter((r) => r.replica === 1).flatMap((r) => r.ready.committed);
    const records = cluster.readies.filter((r) => r.replica === 1).flatMap((r) => r.ready.records);
    log.persist({ hardState: null, records: records.map((record) => ({ ...record, chosen: true })), committed, mustSync: true });
    for (const bytesMax of [512 * 1024, 100_000, 1]) {
      const page = log.readPage({ from: 0, entriesMax: 4_096, bytesMax });
      const encoded = encodeReadReply({ v: 1, ok: true, ...page }).byteLength;
      assert.ok(page.entries.length >= 1 && page.entries.length < 8 * 220, `bytesMax ${bytesMax}: ${page.entries.length} entries`);
      if (page.entries.length > 1) assert.ok(encoded <= bytesMax + 64, `bytesMax ${bytesMax}: the reply is ${encoded} bytes`);
      assert.equal(page.offsetNext, page.entries.length, 'the next page starts right after');
    }
    log.close();
  });
});

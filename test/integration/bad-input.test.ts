import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { encode } from '@msgpack/msgpack';
import { headers } from '@nats-io/transport-node';
import { PaxlogClient } from '../../src/client/PaxlogClient.js';
import { DevCluster } from '../../src/dev/DevCluster.js';
import { decodeAppendReply } from '../../src/transport/clientWire.js';
import { withChecksum } from '../../src/transport/wire.js';
import { appendSubject, peerSubject, publishSubject, readSubject, statusSubject } from '../../src/transport/subjects.js';
import { leaderOf, waitFor } from '../helpers/clusterChecks.js';

const log = 'orders';
const messageBytesMax = 64 * 1024;

describe('bad input at every subject: an error reply naming the problem, or a counted drop; state unchanged', { concurrency: false }, () => {
  let dataDir = '';
  let cluster: DevCluster;
  let client: PaxlogClient;

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'paxlog-bad-input-'));
    cluster = await DevCluster.start({ dataDir, logs: [log], nodeFlags: ['--message-bytes-max', String(messageBytesMax)] });
    client = await PaxlogClient.connect({ servers: cluster.url, log });
    await client.appendEntries([{ id: 'first', data: new Uint8Array([1]) }]);
    // Followers learn the commit of 'first' a moment after the leader acknowledges it.
    // Each case compares positions before and after, so start from a settled cluster.
    await waitFor('every replica to commit the first append', async () => {
      const statuses = await client.status({ waitMs: 200 });
      const settled = (s: Record<string, unknown>) => Number(s['committedInstance']) >= 1 && s['committedInstance'] === s['acceptedInstanceMax'];
      return statuses.length === cluster.peers.length && statuses.every(settled) && new Set(statuses.map((s) => s['committedInstance'])).size === 1;
    });
  });

  after(async () => {
    await client.close();
    await cluster.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const cases: Array<[string, () => Uint8Array, string]> = [
    ['malformed msgpack', () => new Uint8Array([0xc1, 0xc1, 0xc1]), 'malformed'],
    ['a message that fails the schema', () => encode({ v: 1, log, entries: 'not a list', from: 'x', limit: 'y' }), 'schema'],
    ['a wrong protocol version', () => encode({ v: 99, log, entries: [] }), 'version'],
    ['an unknown log', () => new Uint8Array(), 'unknown-log'],
    ['a payload over the limit', () => encode({ v: 1, log, entries: [{ data: new Uint8Array(messageBytesMax + 1) }] }), 'too-large'],
  ];

  for (const [subjectName, subject] of [['append', appendSubject(log)], ['read', readSubject(log)], ['status', statusSubject(log)]] as const) {
    for (const [what, body, code] of cases) {
      it(`${subjectName}: ${what} gets an error reply with code ${code}`, async () => {
        const before = await positions();
        const bytes = code === 'unknown-log' ? validBodyFor(subjectName, 'nosuchlog') : body();
        const reply = await client.nc.request(subject, bytes, { timeout: 5_000 });
        const decoded = decodeAppendReply(reply.data, { bytesMax: 1 << 20 });
        assert.ok(decoded.ok, 'the error reply itself is well formed');
        assert.equal(decoded.reply.ok, false);
        assert.equal(!decoded.reply.ok && decoded.reply.error.code, code);
        assert.deepEqual(await positions(), before, 'the replicas state is unchanged');
      });
    }
  }

  it('append: an id with a line break or a tab, by msgpack or by plain NATS, is refused; no replica stops', async () => {
    // The id becomes a NATS header on the tail: with a line break it once took the tail publisher down.
    const before = await positions();
    const reply = await client.nc.request(appendSubject(log), encode({ v: 1, log, entries: [{ data: new Uint8Array([1]), id: 'x\r\nPaxlog-Offset: 0' }] }), { timeout: 5_000 });
    const decoded = decodeAppendReply(reply.data, { bytesMax: 1 << 20 });
    assert.ok(decoded.ok && !decoded.reply.ok);
    assert.equal(decoded.reply.error.code, 'schema');
    assert.match(decoded.reply.error.message, /control character/);
    const h = headers();
    h.set('Paxlog-Id', 'tab\there');
    const plain = await client.nc.request(publishSubject(log), new Uint8Array([1]), { headers: h, timeout: 5_000 });
    assert.equal(plain.headers?.get('Paxlog-Error-Code'), 'schema');
    assert.deepEqual(await positions(), before, 'nothing was written');
    const [result] = await client.appendEntries([{ id: 'after-bad-id', data: new Uint8Array([3]) }]);
    assert.equal(result?.status, 'ok');
    await waitFor('every replica to commit it', async () => {
      const statuses = await client.status({ waitMs: 200 });
      return statuses.length === cluster.peers.length && new Set(statuses.map((s) => s['offsetNext'])).size === 1;
    });
    assert.deepEqual(cluster.exitsUnasked, [], 'no replica exited');
  });

  it('read: 2,000 entries with 256-character ids and keys (1.1 MB) come back in pages that each fit a NATS message', async () => {
    // Pages were sized by data alone: this read once answered with 1.1 MB, which nats.js refused
    // inside its reader, and the replica dropped its connection (from a woken long poll: exited).
    const key = `wide.${'k'.repeat(250)}`;
    const from = Number((await client.status({ waitMs: 200 }))[0]?.['offsetNext']);
    for (let request = 0; request < 40; request++) {
      const entries = Array.from({ length: 50 }, (_, i) => ({ data: new Uint8Array(8), id: `${request}-${i}-`.padEnd(256, 'i'), key }));
      const results = await client.appendEntries(entries);
      assert.ok(results.every((result) => result.status === 'ok'));
    }
    let offset = from;
    let pages = 0;
    while (offset < from + 2_000) {
      const page = await client.read({ from: offset, limit: 4_096, timeoutMs: 5_000 });
      assert.ok(page.entries.length > 0 && page.entries[0]!.offset === offset, `a page from ${offset}`);
      offset = page.offsetNext;
      pages++;
    }
    assert.ok(pages >= 3, `${pages} pages`);
    assert.deepEqual(cluster.exitsUnasked, [], 'no replica exited');
  });

  it('read: past 4,096 parked long polls a read is refused with overloaded (a client backs off), not answered empty (it would ask again at once)', async () => {
    const target = cluster.peers[0]!;
    const from = Number((await client.status({ waitMs: 200 })).find((s) => Number(s['id']) === target)?.['offsetNext']);
    const subject = `${readSubject(log)}.${target}`;
    const longPoll = encode({ v: 1, log, from, limit: 10, waitMs: 3_000 });
    const parked = Array.from({ length: 4_096 }, () => client.nc.request(subject, longPoll, { timeout: 10_000 }));
    await client.nc.flush();
    const refused = decodeAppendReply((await client.nc.request(subject, longPoll, { timeout: 5_000 })).data, { bytesMax: 1 << 20 });
    assert.ok(refused.ok && !refused.reply.ok);
    assert.equal(refused.reply.error.code, 'overloaded');
    const answered = await Promise.all(parked);
    assert.equal(answered.length, 4_096, 'the parked reads are answered when their wait runs out');
  });

  it('peer subjects: bad messages without a reply subject are dropped and counted; the replica keeps working', async () => {
    const leader = await leaderOf(client);
    const target = cluster.peers.find((id) => id !== leader)!;
    const before = await positions();
    const subject = peerSubject({ log, replica: target });
    client.nc.publish(subject, withChecksum(new Uint8Array([0xc1, 0xc1])));
    client.nc.publish(subject, withChecksum(encode({ v: 1, log, from: leader, to: target, messages: [{ type: 'nonsense' }] })));
    client.nc.publish(subject, withChecksum(encode({ v: 7, log, from: leader, to: target, messages: [] })));
    client.nc.publish(subject, withChecksum(encode({ v: 1, log: 'otherlog', from: leader, to: target, messages: [] })));
    client.nc.publish(subject, new Uint8Array(messageBytesMax + 1));
    client.nc.publish(subject, encode({ v: 1, log, from: leader, to: target, messages: [] })); // no CRC32 trailer
    const counters = await waitFor('the drops to be counted', async () => {
      const status = (await client.status({ waitMs: 200 })).find((s) => Number(s['id']) === target);
      const c = (status?.['counters'] ?? {}) as Record<string, number>;
      const all = ['malformed', 'schema', 'version', 'misaddressed', 'too-large', 'checksum'].every((p) => (c[`dropped.peer-${p}`] ?? 0) >= 1);
      return all ? c : null;
    });
    assert.ok(counters);
    assert.deepEqual(await positions(), before, 'nothing changed');
    const [result] = await client.appendEntries([{ id: 'after-bad-input', data: new Uint8Array([2]) }]);
    assert.equal(result?.status, 'ok');
  });

  /** A request that is valid in every way but names another log than its subject's. */
  function validBodyFor(subject: 'append' | 'read' | 'status', other: string): Uint8Array {
    if (subject === 'append') return encode({ v: 1, log: other, entries: [{ data: new Uint8Array([1]) }] });
    if (subject === 'read') return encode({ v: 1, log: other, from: 0, limit: 1 });
    return encode({ v: 1, log: other });
  }

  async function positions(): Promise<string> {
    const statuses = await client.status({ waitMs: 200 });
    return JSON.stringify(statuses.map((s) => [s['id'], s['committedInstance'], s['acceptedInstanceMax'], s['offsetNext']]));
  }
});

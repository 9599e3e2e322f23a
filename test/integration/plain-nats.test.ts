/**
 * paxlog from a bare NATS client: only @nats-io/transport-node and the subjects and headers of
 * docs/PROTOCOL.md, no paxlog code (the cluster itself is started with paxlog's dev harness, and
 * the load of the second test comes from paxlog's producer).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { connect, headers, type Msg, type NatsConnection } from '@nats-io/transport-node';
import { PaxlogClient } from '../../src/client/PaxlogClient.js';
import { DevCluster } from '../../src/dev/DevCluster.js';

const text = new TextEncoder();
const untext = new TextDecoder();

async function publish(nc: NatsConnection, body: string, h: Record<string, string>): Promise<Msg> {
  const hdrs = headers();
  for (const [name, value] of Object.entries(h)) hdrs.set(name, value);
  for (let attempt = 0; ; attempt++) {
    try {
      const reply = await nc.request('paxlog.plain.publish', text.encode(body), { headers: hdrs, timeout: 5_000 });
      if (reply.headers?.get('Paxlog-Error-Code') !== 'not-leader') return reply;
    } catch (error) {
      if (attempt > 200) throw error; // no responders while the cluster elects its leader
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** A replay page; with no `limit`, the request carries no Paxlog-Limit (the replica's page size applies). */
async function replay(nc: NatsConnection, from: number, limit?: number): Promise<{ entries: Msg[]; next: number }> {
  const entries: Msg[] = [];
  const inbox = `_INBOX.replay.${Date.now()}.${Math.random().toString(36).slice(2)}`;
  const sub = nc.subscribe(inbox);
  const hdrs = headers();
  hdrs.set('Paxlog-From', String(from));
  if (limit !== undefined) hdrs.set('Paxlog-Limit', String(limit));
  nc.publish('paxlog.plain.replay', new Uint8Array(), { headers: hdrs, reply: inbox });
  for await (const msg of sub) {
    if (msg.headers?.get('Paxlog-End') === 'true') {
      sub.unsubscribe();
      return { entries, next: Number(msg.headers.get('Paxlog-Offset-Next')) };
    }
    entries.push(msg);
  }
  throw new Error('replay ended without its end marker');
}

describe('plain NATS clients', () => {
  it('append by request with headers, tail per-key subjects, replay in pages: no paxlog code', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'paxlog-plain-'));
    const cluster = await DevCluster.start({ dataDir, logs: ['plain'] });
    const nc = await connect({ servers: cluster.url });
    try {
      const tail: Msg[] = [];
      const live = nc.subscribe('paxlog.plain.entries.>', { callback: (_error, msg) => void tail.push(msg) });
      const first = await publish(nc, 'opened', { 'Paxlog-Id': 'acct-1-open', 'Paxlog-Key': 'acct.1' });
      assert.equal(first.headers?.get('Paxlog-Offset'), '0');
      assert.deepEqual(JSON.parse(untext.decode(first.data)), { offset: 0, duplicate: false });
      for (let i = 1; i <= 9; i++) await publish(nc, `event ${i}`, { 'Paxlog-Id': `e${i}`, 'Paxlog-Key': i % 2 === 0 ? 'acct.1' : 'acct.2' });
      const again = await publish(nc, 'opened', { 'Paxlog-Id': 'acct-1-open', 'Paxlog-Key': 'acct.1' });
      assert.equal(again.headers?.get('Paxlog-Offset'), '0');
      assert.equal(again.headers?.get('Paxlog-Duplicate'), 'true');
      const stale = await publish(nc, 'late', { 'Paxlog-Expected-Offset': '3' });
      assert.equal(stale.headers?.get('Paxlog-Error-Code'), 'conflict');
      assert.equal(stale.headers?.get('Paxlog-Offset-Next'), '10');
      const bad = await publish(nc, 'x', { 'Paxlog-Key': 'no spaces allowed' });
      assert.equal(bad.headers?.get('Paxlog-Error-Code'), 'schema');

      const page1 = await replay(nc, 0, 4);
      const page2 = await replay(nc, page1.next, 100);
      const all = [...page1.entries, ...page2.entries];
      assert.equal(page1.next, 4);
      assert.deepEqual(all.map((m) => Number(m.headers?.get('Paxlog-Offset'))), [...Array(10).keys()]);
      assert.equal(untext.decode(all[0]!.data), 'opened');
      assert.equal(all[0]!.headers?.get('Paxlog-Id'), 'acct-1-open');
      const unbounded = await replay(nc, 2);
      assert.deepEqual(unbounded.entries.map((m) => Number(m.headers?.get('Paxlog-Offset'))), [2, 3, 4, 5, 6, 7, 8, 9], 'no Paxlog-Limit: up to the page size');
      assert.equal(unbounded.next, 10);

      await nc.flush();
      for (let i = 0; tail.length < 10 && i < 200; i++) await new Promise((resolve) => setTimeout(resolve, 10));
      assert.deepEqual(tail.map((m) => Number(m.headers?.get('Paxlog-Offset'))), [...Array(10).keys()], 'the live tail, in offset order');
      assert.deepEqual(new Set(tail.map((m) => m.subject)), new Set(['paxlog.plain.entries.acct.1', 'paxlog.plain.entries.acct.2']));
      live.unsubscribe();
    } finally {
      await nc.close();
      await cluster.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  // The load comes from paxlog's batching producer; the subscriber is a bare NATS subscription.
  it('the live tail under the producer\'s load: every entry exactly once, through changes of publisher', async () => {
    const count = 150_000;
    const dataDir = mkdtempSync(join(tmpdir(), 'paxlog-plain-'));
    const cluster = await DevCluster.start({ dataDir, logs: ['plain'] });
    const nc = await connect({ servers: cluster.url });
    const client = await PaxlogClient.connect({ servers: cluster.url, log: 'plain' });
    try {
      const offsets: number[] = [];
      nc.subscribe('paxlog.plain.entries.>', { callback: (_error, msg) => void offsets.push(Number(msg.headers?.get('Paxlog-Offset'))) });
      await nc.flush();
      const producer = client.producer({ lingerMs: 1, batchEntriesMax: 1_000, inflightRequestsMax: 8, queuedAppendsMax: count });
      const data = new Uint8Array(100).fill(120);
      await Promise.all(Array.from({ length: count }, (_, i) => producer.append(data, { id: `load-${i}` })));
      await producer.close();
      for (let i = 0; offsets.length < count && i < 600; i++) await new Promise((resolve) => setTimeout(resolve, 50));
      const repeated = offsets.length - new Set(offsets).size;
      assert.equal(repeated, 0, 'no entry published twice');
      assert.equal(offsets.length, count, `every entry published (${count - offsets.length} missing)`);
      assert.deepEqual([...offsets].sort((a, b) => a - b), [...Array(count).keys()]);
      // Not asserted (they depend on the machine's load), only shown: how often the publisher
      // changed, and the entries that arrived before a lower offset (only across a change, when
      // the two publishers' messages may interleave).
      const handovers = (await client.status({ waitMs: 300 })).map((s) => Number((s['counters'] as Record<string, number> | undefined)?.['tail.started'] ?? 0));
      const early = offsets.filter((offset, i) => i > 0 && offset < offsets[i - 1]!).length;
      console.log(`tail publisher started ${handovers.join(' / ')} times on the replicas; ${early} entries behind a higher offset`);
    } finally {
      await client.close();
      await nc.close();
      await cluster.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

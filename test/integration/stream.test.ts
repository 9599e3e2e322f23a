import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type Subscription } from 'rxjs';
import { ConflictError, PaxlogClient, type StreamEntry } from '../../src/client/PaxlogClient.js';
import { DevCluster } from '../../src/dev/DevCluster.js';
import { withCluster as withClusterOf, appendMany, leaderOf, readAll, verifyReplicas, waitFor } from '../helpers/clusterChecks.js';

const log = 'events';

function withCluster(name: string, body: (cluster: DevCluster, client: PaxlogClient) => Promise<void>): Promise<void> {
  return withClusterOf({ name, logs: [log] }, body);
}

/** A stream pinned to one replica, collecting `count` entries. */
function collect(client: PaxlogClient, options: { replica: number; count: number; pageEntriesMax?: number; pagesAheadMax?: number }): { done: Promise<StreamEntry[]>; subscription: Subscription } {
  const got: StreamEntry[] = [];
  let finish: (entries: StreamEntry[]) => void = () => undefined;
  let fail: (error: Error) => void = () => undefined;
  const done = new Promise<StreamEntry[]>((resolve, reject) => {
    finish = resolve;
    fail = reject;
  });
  const { replica, pageEntriesMax, pagesAheadMax } = options;
  const paging = { ...(pageEntriesMax === undefined ? {} : { pageEntriesMax }), ...(pagesAheadMax === undefined ? {} : { pagesAheadMax }) };
  const subscription = client.stream({ from: 0, replica, waitMs: 1_000, ...paging }).subscribe({
    next: (entry) => {
      got.push(entry);
      if (got.length === options.count) {
        subscription.unsubscribe();
        finish(got);
      }
    },
    error: fail,
  });
  return { done, subscription };
}

describe('streams and the client API on a real cluster', { concurrency: false }, () => {
  it('1. streams from 0 started before, during and after 10,000 appends, on every replica, yield the same 10,000', async () => {
    await withCluster('streams', async (cluster, client) => {
      const count = 10_000;
      const streams = cluster.peers.map((replica) => collect(client, { replica, count }));
      const acked = new Map<string, number>();
      const leader = await leaderOf(client);
      const follower = cluster.peers.find((id) => id !== leader)!;
      await appendMany({
        client, count, concurrency: 64, prefix: 's', acked,
        during: { atCount: 3_000, run: async () => {
          // Small pages asked far ahead: near the moving end of the log most predictions fail.
          streams.push(...cluster.peers.map((replica) => collect(client, { replica, count, pageEntriesMax: 1_000, pagesAheadMax: 8 })));
          await cluster.signal(leader, 'SIGKILL');
          await waitFor('appends to go on under a new leader', async () => acked.size >= 5_000);
          cluster.startReplica(leader);
          await cluster.signal(follower, 'SIGTERM');
          cluster.startReplica(follower);
        } },
      });
      streams.push(...cluster.peers.map((replica) => collect(client, { replica, count })));
      const reference = await readAll(client, leader);
      assert.equal(reference.length, count);
      for (const stream of streams) {
        const entries = await stream.done;
        entries.forEach((entry, i) => assert.equal(entry.offset, i, 'contiguous offsets from 0'));
        assert.deepEqual(entries.map((e) => e.id), reference.map((e) => e.id));
      }
      assert.equal(streams.length, 9);
      await verifyReplicas({ client, peers: cluster.peers, acked });
    });
  });

  it('2. a slow consumer (1 entry per ms) is never dropped, gets every entry, and replicas stay bounded', async () => {
    await withCluster('slow', async (_cluster, client) => {
      const count = 4_000;
      const acked = new Map<string, number>();
      const appends = appendMany({ client, count, concurrency: 64, prefix: 'slow', acked });
      const seen: number[] = [];
      let rssMax = 0;
      let waitersMax = 0;
      for await (const entry of client.entries({ from: 0, pageEntriesMax: 256 })) {
        seen.push(entry.offset);
        await new Promise((resolve) => setTimeout(resolve, 1));
        if (seen.length % 500 === 0) {
          for (const s of await client.status({ waitMs: 100 })) {
            rssMax = Math.max(rssMax, Number(s['memoryRssBytes']));
            waitersMax = Math.max(waitersMax, Number(s['readWaiters']));
          }
        }
        if (seen.length === count) break;
      }
      await appends;
      seen.forEach((offset, i) => assert.equal(offset, i));
      console.log(`slow consumer: ${count} entries; replica RSS max ${(rssMax / 2 ** 20).toFixed(0)} MiB; read waiters max ${waitersMax}`);
      assert.ok(waitersMax <= 1, 'one consumer holds at most one waiting read');
      assert.ok(rssMax < 512 * 2 ** 20, `replica RSS ${rssMax}`);
    });
  });

  it('3. a retry with the same id after a leader change commits once; a stale expectedOffset is refused', async () => {
    await withCluster('idempotent', async (cluster, client) => {
      const data = new TextEncoder().encode('deposit 100');
      const first = await client.append(data, { id: 'deposit-1', key: 'account-7' });
      const leader = await leaderOf(client);
      await cluster.signal(leader, 'SIGKILL');
      const retry = await client.append(data, { id: 'deposit-1', key: 'account-7' });
      assert.deepEqual(retry, { offset: first.offset, duplicate: true });
      const next = await client.append(new TextEncoder().encode('withdraw 30'), { expectedOffset: first.offset + 1 });
      assert.equal(next.offset, first.offset + 1);
      await assert.rejects(client.append(new TextEncoder().encode('stale'), { expectedOffset: first.offset + 1 }), (error: unknown) => {
        assert.ok(error instanceof ConflictError);
        assert.equal(error.offsetNext, first.offset + 2);
        return true;
      });
      cluster.startReplica(leader);
      const all = await readAll(client, (await leaderOf(client)));
      assert.deepEqual(all.map((e) => new TextDecoder().decode(e.data)), ['deposit 100', 'withdraw 30']);
    });
  });
});

import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { PaxlogClient } from '../../src/client/PaxlogClient.js';
import { DevCluster } from '../../src/dev/DevCluster.js';
import { findNatsServer, natsServerMissingMessage } from '../../src/dev/NatsServer.js';
import { withCluster as withClusterOf, appendMany, leaderOf, verifyReplicas, waitFor } from '../helpers/clusterChecks.js';

const log = 'orders';

function withCluster(name: string, body: (cluster: DevCluster, client: PaxlogClient) => Promise<void>): Promise<void> {
  return withClusterOf({ name, logs: [log, 'audit'] }, body);
}

/** How long until an append committed after `since`: what a client sees of a failover. */
async function appendServedAfter(client: PaxlogClient, since: number, id: string): Promise<number> {
  await client.appendEntries([{ id, data: new TextEncoder().encode(id) }], { timeoutMs: 60_000 });
  return Date.now() - since;
}

describe('a real cluster: nats-server, three replica processes, SQLite', { concurrency: false }, () => {
  before(() => assert.ok(findNatsServer() !== null, natsServerMissingMessage));

  it('1. 10,000 appends end identical on every replica, in order, at contiguous offsets', async () => {
    await withCluster('ten-thousand', async (cluster, client) => {
      const acked = new Map<string, number>();
      await appendMany({ client, count: 10_000, concurrency: 128, prefix: 'a', acked });
      const entries = await verifyReplicas({ client, peers: cluster.peers, acked });
      assert.equal(entries, 10_000);
      const audit = await PaxlogClient.connect({ servers: cluster.url, log: 'audit' });
      const [result] = await audit.appendEntries([{ id: 'audit-0', data: new Uint8Array([1]) }]);
      assert.deepEqual(result, { status: 'ok', offset: 0 }, 'a second log on the same processes is its own Paxos group');
      await audit.close();
    });
  });

  it('2. a follower SIGKILLed during appends catches up after its restart', async () => {
    await withCluster('follower-kill', async (cluster, client) => {
      const leader = await leaderOf(client);
      const follower = cluster.peers.find((id) => id !== leader)!;
      const acked = new Map<string, number>();
      await appendMany({
        client, count: 3_000, concurrency: 64, prefix: 'b', acked,
        during: { atCount: 500, run: async () => {
          assert.equal(await cluster.signal(follower, 'SIGKILL'), 'SIGKILL');
          await waitFor('more appends without the follower', async () => acked.size >= 1_500);
          cluster.startReplica(follower);
        } },
      });
      assert.equal(await verifyReplicas({ client, peers: cluster.peers, acked }), 3_000);
    });
  });

  it('3. after a leader SIGKILL a new leader serves within the lease bound', async () => {
    await withCluster('leader-kill', async (cluster, client) => {
      const leader = await leaderOf(client);
      const acked = new Map<string, number>();
      let failoverMs = 0;
      await appendMany({
        client, count: 2_000, concurrency: 32, prefix: 'c', acked,
        during: { atCount: 500, run: async () => {
          const killedAt = Date.now();
          await cluster.signal(leader, 'SIGKILL');
          failoverMs = await appendServedAfter(client, killedAt, 'c-probe');
          acked.set('c-probe', -1);
        } },
      });
      const next = await leaderOf(client);
      assert.notEqual(next, leader);
      console.log(`leader SIGKILL -> a new leader commits an append: ${failoverMs} ms (lease ${2_000} ms)`);
      acked.delete('c-probe');
      cluster.startReplica(leader);
      assert.equal(await verifyReplicas({ client, peers: cluster.peers, acked }) >= 2_000, true);
    });
  });

  it('4. a leader SIGTERM hands over much faster than the lease time', async () => {
    await withCluster('leader-term', async (cluster, client) => {
      const acked = new Map<string, number>();
      await appendMany({ client, count: 200, concurrency: 16, prefix: 'd', acked });
      const leader = await leaderOf(client);
      const stoppedAt = Date.now();
      assert.equal(await cluster.signal(leader, 'SIGTERM'), 0, 'a clean stop exits 0');
      const handoverMs = await appendServedAfter(client, stoppedAt, 'd-probe');
      const next = await leaderOf(client);
      assert.notEqual(next, leader);
      console.log(`leader SIGTERM -> a new leader commits an append: ${handoverMs} ms (lease ${2_000} ms)`);
      cluster.startReplica(leader);
      await appendMany({ client, count: 200, concurrency: 16, prefix: 'd2', acked });
      assert.ok((await verifyReplicas({ client, peers: cluster.peers, acked })) >= 400);
    });
  });

  it('5. the cluster recovers by itself when nats-server restarts during appends', async () => {
    await withCluster('nats-restart', async (cluster, client) => {
      const acked = new Map<string, number>();
      await appendMany({
        client, count: 3_000, concurrency: 32, prefix: 'e', acked,
        during: { atCount: 800, run: async () => cluster.nats.restart({ downMs: 500 }) },
      });
      assert.equal(await verifyReplicas({ client, peers: cluster.peers, acked }), 3_000);
    });
  });

  it('6. cold start with data: a replica whose log is behind does not become leader', async () => {
    await withCluster('cold-start', async (cluster, client) => {
      const acked = new Map<string, number>();
      await appendMany({ client, count: 100, concurrency: 8, prefix: 'f', acked });
      const leader = await leaderOf(client);
      const behind = cluster.peers.find((id) => id !== leader)!;
      await cluster.signal(behind, 'SIGTERM');
      await appendMany({ client, count: 300, concurrency: 8, prefix: 'g', acked });
      for (const id of cluster.peers) if (id !== behind) await cluster.signal(id, 'SIGTERM');
      for (const id of cluster.peers) cluster.startReplica(id);
      const winner = await leaderOf(client);
      assert.notEqual(winner, behind, `replica ${behind} is behind and must not lead`);
      const statuses = await client.status({ waitMs: 200 });
      const committed = statuses.map((s) => Number(s['committedInstance']));
      assert.equal(Number(statuses.find((s) => Number(s['id']) === winner)!['committedInstance']), Math.max(...committed));
      assert.equal(await verifyReplicas({ client, peers: cluster.peers, acked }), 400);
    });
  });
});

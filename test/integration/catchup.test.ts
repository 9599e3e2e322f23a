import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { PaxlogClient, RetentionError } from '../../src/client/PaxlogClient.js';
import type { DevCluster } from '../../src/dev/DevCluster.js';
import { SqliteLog } from '../../src/storage/SqliteLog.js';
import type { CommittedEntry } from '../../src/log/types.js';
import { leaderOf, waitFor, withCluster } from '../helpers/clusterChecks.js';

const log = 'ledger';
const payload = (i: number) => new TextEncoder().encode(`entry ${i} `.padEnd(100, '.'));

type Status = Record<string, unknown>;

async function statusOf(client: PaxlogClient, replica: number): Promise<Status | undefined> {
  return (await client.status({ waitMs: 200 })).find((s) => Number(s['id']) === replica);
}

function counter(status: Status | undefined, name: string): number {
  return Number((status?.['counters'] as Record<string, number> | undefined)?.[name] ?? 0);
}

/** Appends `count` entries through the batching producer, ids `prefix-i`. */
async function appendBulk(client: PaxlogClient, options: { count: number; prefix: string }): Promise<void> {
  const producer = client.producer({ lingerMs: 1, batchEntriesMax: 1_000, inflightRequestsMax: 8, queuedAppendsMax: options.count });
  await Promise.all(Array.from({ length: options.count }, (_, i) => producer.append(payload(i), { id: `${options.prefix}-${i}` })));
  await producer.close();
}

/** Every entry a replica holds from `from` on. */
async function readFrom(client: PaxlogClient, options: { replica: number; from: number }): Promise<CommittedEntry[]> {
  const entries: CommittedEntry[] = [];
  for (let next = options.from; ; ) {
    const page = await client.read({ from: next, limit: 4096, replica: options.replica });
    if (page.entries.length === 0) return entries;
    entries.push(...page.entries);
    next = page.offsetNext;
  }
}

/** A SHA-256 over every entry's offset, id, key, timestamp and data, in order. */
function digest(entries: readonly CommittedEntry[]): string {
  const hash = createHash('sha256');
  for (const e of entries) hash.update(`${e.offset}|${e.id ?? ''}|${e.key ?? ''}|${e.timestampMs}|${e.data.byteLength}|`).update(e.data);
  return hash.digest('hex');
}

/**
 * Waits until every replica has committed the same instance, then checks that they keep the
 * same horizon and hold the same entries above it, and that a read below it is refused by name.
 */
async function expectReplicasEqual(client: PaxlogClient, cluster: DevCluster): Promise<{ horizon: number; entries: number }> {
  const statuses = await waitFor('every replica to commit the same instance', async () => {
    const all = await client.status({ waitMs: 200 });
    const committed = new Set(all.map((s) => s['committedInstance']));
    return all.length === cluster.peers.length && committed.size === 1 ? all : null;
  }, 120_000);
  const horizons = new Set(statuses.map((s) => Number(s['horizonOffset'])));
  assert.equal(horizons.size, 1, `replicas keep different horizons: ${JSON.stringify(statuses.map((s) => s['horizonOffset']))}`);
  const horizon = [...horizons][0]!;
  const logs = await Promise.all(cluster.peers.map((replica) => readFrom(client, { replica, from: horizon })));
  const digests = new Set(logs.map(digest));
  assert.equal(digests.size, 1, 'replicas hold different entries above the horizon');
  logs[0]!.forEach((entry, i) => assert.equal(entry.offset, horizon + i, 'contiguous offsets from the horizon'));
  if (horizon > 0) {
    await assert.rejects(client.read({ from: horizon - 1, limit: 1 }), (error: unknown) => {
      assert.ok(error instanceof RetentionError, `expected a RetentionError, got ${String(error)}`);
      assert.equal(error.offsetFirst, horizon);
      return true;
    });
  }
  return { horizon, entries: logs[0]!.length };
}

describe('catch-up and snapshots on a real cluster', { concurrency: false }, () => {
  it('1. a follower stopped through 100,000 appends while retention drops the oldest installs a snapshot and catches up', async () => {
    await withCluster({ name: 'catchup-snapshot', logs: [log], nodeFlags: ['--retain-entries-max', '20000'] }, async (cluster, client) => {
      const leader = await leaderOf(client);
      const follower = cluster.peers.find((id) => id !== leader)!;
      await cluster.signal(follower, 'SIGTERM');
      await appendBulk(client, { count: 100_000, prefix: 'a' });
      const leaderStatus = await statusOf(client, leader);
      assert.ok(Number(leaderStatus?.['horizonOffset']) >= 80_000, 'retention removed the oldest entries');
      cluster.startReplica(follower);
      await waitFor('the follower to install a snapshot', async () => counter(await statusOf(client, follower), 'snapshot.installed') >= 1, 120_000);
      const { horizon, entries } = await expectReplicasEqual(client, cluster);
      assert.equal(horizon + entries, 100_000);
      assert.ok(entries <= 20_000, `retention keeps at most 20,000 entries, not ${entries}`);
    });
  });

  it('2. a follower whose data folder is wiped rejoins by snapshot and tail, votes again, and appends never stop meanwhile', async () => {
    await withCluster({ name: 'catchup-wipe', logs: [log] }, async (cluster, client) => {
      const leader = await leaderOf(client);
      const follower = cluster.peers.find((id) => id !== leader)!;
      for (let round = 0; round < 300; round++) await client.appendEntries([{ id: `w-${round}`, data: payload(round) }]);
      await cluster.signal(follower, 'SIGTERM');
      rmSync(cluster.replicaDataDir(follower), { recursive: true, force: true });
      // Appends run all the while: one at a time, so each is its own instance and the rebuilt
      // replica sees instances beyond its floor chosen.
      let stop = false;
      let appended = 0;
      const appender = (async () => {
        while (!stop) {
          const [result] = await client.appendEntries([{ id: `during-${appended}`, data: payload(appended) }], { timeoutMs: 10_000 });
          assert.equal(result?.status, 'ok', `append ${appended} during the rejoin`);
          appended++;
        }
      })();
      cluster.startReplica(follower);
      const rebuilt = await waitFor('the wiped follower to rebuild and vote again', async () => {
        const status = await statusOf(client, follower);
        return status !== undefined && status['rebuilding'] === null && counter(status, 'snapshot.installed') >= 1 ? status : null;
      }, 120_000);
      stop = true;
      await appender;
      assert.ok(appended > 0, 'appends went on while the follower rebuilt');
      const leaderStatus = await statusOf(client, leader);
      const ballot = leaderStatus?.['ballot'] as { round: number; replica: number };
      const promised = rebuilt['promised'] as { round: number; replica: number };
      assert.ok(promised.round > 0, 'the rebuilt replica promised a ballot before it voted again');
      assert.ok(promised.round <= ballot.round, 'and no ballot beyond the leader it saw');
      const { horizon, entries } = await expectReplicasEqual(client, cluster);
      assert.equal(horizon, 0);
      assert.equal(entries, 300 + appended);
    });
  });

  it('2b. a follower whose data folder is wiped rejoins an idle log, votes again, and then makes a majority with the leader', async () => {
    await withCluster({ name: 'catchup-idle', logs: [log] }, async (cluster, client) => {
      const leader = await leaderOf(client);
      const [follower, other] = cluster.peers.filter((id) => id !== leader) as [number, number];
      for (let round = 0; round < 20; round++) await client.appendEntries([{ id: `i-${round}`, data: payload(round) }]);
      await cluster.signal(follower, 'SIGTERM');
      rmSync(cluster.replicaDataDir(follower), { recursive: true, force: true });
      cluster.startReplica(follower);
      // Nothing is appended now: only the leader's no-ops can take the log past the floor.
      await waitFor('the wiped follower of an idle log to vote again', async () => {
        const status = await statusOf(client, follower);
        return status !== undefined && status['rebuilding'] === null ? status : null;
      }, 60_000);
      await cluster.signal(other, 'SIGTERM');
      const [result] = await client.appendEntries([{ id: 'after', data: payload(20) }], { timeoutMs: 20_000 });
      assert.equal(result?.status, 'ok', 'the leader and the rebuilt follower commit without the third replica');
      assert.equal(result?.status === 'ok' ? result.offset : -1, 20);
    });
  });

  it('3. a follower SIGKILLed halfway through a snapshot transfer restarts, starts over cleanly, and ends consistent', async () => {
    await withCluster({ name: 'catchup-kill', logs: [log], nodeFlags: ['--retain-entries-max', '50000'] }, async (cluster, client) => {
      const leader = await leaderOf(client);
      const follower = cluster.peers.find((id) => id !== leader)!;
      await cluster.signal(follower, 'SIGTERM');
      await appendBulk(client, { count: 120_000, prefix: 'k' });
      const incoming = join(cluster.replicaDataDir(follower), `${log}.sqlite.incoming`);
      cluster.startReplica(follower);
      // The transfer writes the incoming file; the kill lands once part of it is there.
      const partial = await waitFor('the snapshot transfer to be under way', async () => {
        await sleep(0);
        return existsSync(incoming) && statSync(incoming).size > 0 ? statSync(incoming).size : null;
      }, 120_000);
      await cluster.signal(follower, 'SIGKILL');
      assert.ok(partial > 0);
      cluster.startReplica(follower);
      await waitFor('the follower to install a snapshot after its restart', async () => counter(await statusOf(client, follower), 'snapshot.installed') >= 1, 120_000);
      await appendBulk(client, { count: 1_000, prefix: 'after' });
      const { horizon, entries } = await expectReplicasEqual(client, cluster);
      assert.equal(horizon + entries, 121_000);
      assert.equal(existsSync(incoming), false, 'no half-transferred snapshot is left behind');
    });
  });

  it('4. SIGKILL of the replica serving a log transfer: the catch-up completes from another replica', async () => {
    await withCluster({ name: 'catchup-serving', logs: [log] }, async (cluster, client) => {
      const leader = await leaderOf(client);
      const follower = cluster.peers.find((id) => id !== leader)!;
      await cluster.signal(follower, 'SIGTERM');
      await appendBulk(client, { count: 60_000, prefix: 's' });
      cluster.startReplica(follower);
      const serving = await waitFor('the follower to fetch from a peer while behind', async () => {
        const status = await statusOf(client, follower);
        const catchUp = status?.['catchUp'] as { state: string; fetchPeer: number | null } | undefined;
        return catchUp?.state === 'log' && catchUp.fetchPeer !== null ? catchUp.fetchPeer : null;
      }, 120_000);
      await cluster.signal(serving, 'SIGKILL');
      await appendBulk(client, { count: 500, prefix: 'after' });
      await waitFor('the follower to catch up without the replica that served it', async () => {
        const statuses = await client.status({ waitMs: 200 });
        const committed = new Set(statuses.map((s) => s['committedInstance']));
        return statuses.length === 2 && committed.size === 1;
      }, 120_000);
      cluster.startReplica(serving);
      const { horizon, entries } = await expectReplicasEqual(client, cluster);
      assert.equal(horizon, 0);
      assert.equal(entries, 60_500);
    });
  });

  it('5. a follower killed just before, then just after, the rename that installs its snapshot restarts on a whole store each time and ends consistent', async () => {
    await withCluster({ name: 'catchup-rename', logs: [log], nodeFlags: ['--retain-entries-max', '20000'] }, async (cluster, client) => {
      const leader = await leaderOf(client);
      const follower = cluster.peers.find((id) => id !== leader)!;
      await appendBulk(client, { count: 1_000, prefix: 'before' });
      await waitFor('the follower to commit the first entries', async () => Number((await statusOf(client, follower))?.['offsetNext']) === 1_000 || null);
      await cluster.signal(follower, 'SIGTERM');
      await appendBulk(client, { count: 100_000, prefix: 'r' });
      const dir = cluster.replicaDataDir(follower);
      const store = join(dir, `${log}.sqlite`);
      /** Starts the follower armed to die at `point`, and waits until it has. */
      const killedAt = async (point: string): Promise<void> => {
        const child = cluster.startReplica(follower, { env: { PAXLOG_CRASH_AT: point } });
        const exited = await waitFor(`the follower to die at ${point}`, async () => (child.exitCode !== null || child.signalCode !== null ? { code: child.exitCode, signal: child.signalCode } : null), 120_000);
        assert.deepEqual(exited, { code: null, signal: 'SIGKILL' }, `the follower died at ${point}: ${cluster.replicaFailure()}`);
      };
      await killedAt('snapshot-install-before-rename');
      // The old store is still whole and in place; the adopted snapshot waits beside it.
      assert.equal(SqliteLog.describe(store).offsetNext, 1_000, 'before the rename: the old store, as it was');
      assert.ok(existsSync(`${store}.incoming`), 'before the rename: the snapshot file beside it');
      assert.ok(SqliteLog.walEmpty(`${store}.incoming`) && SqliteLog.walEmpty(store), 'no WAL beside either file');
      await killedAt('snapshot-install-after-rename');
      const installed = SqliteLog.describe(store);
      assert.ok(installed.offsetNext > 1_000 && installed.horizonOffset > 0, `after the rename: the snapshot is the store (${JSON.stringify(installed)})`);
      assert.deepEqual(readdirSync(dir).filter((name) => name.includes('.incoming')), [], 'after the rename: nothing left beside it');
      cluster.startReplica(follower);
      await appendBulk(client, { count: 1_000, prefix: 'after' });
      const { horizon, entries } = await expectReplicasEqual(client, cluster);
      assert.equal(horizon + entries, 102_000);
      assert.equal(counter(await statusOf(client, follower), 'snapshot.installed'), 0, 'the restart kept the installed snapshot and fetched only the tail');
    });
  });
});

/**
 * The catch-up workloads of `npm run bench`: a follower that was stopped catches up by log
 * transfer, and a follower whose data folder was wiped rejoins by snapshot and tail.
 */
import { rmSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { PaxlogClient } from '../src/client/PaxlogClient.js';
import type { DevCluster } from '../src/dev/DevCluster.js';

type Metrics = Record<string, number>;
type Status = Record<string, unknown>;

export const catchUpSizes = { total: 1_000_000, transferred: 200_000, entryBytes: 100 };

async function statusOf(client: PaxlogClient, replica: number): Promise<Status | undefined> {
  return (await client.status({ waitMs: 200 })).find((s) => Number(s['id']) === replica);
}

async function appendBulk(client: PaxlogClient, options: { from: number; count: number }): Promise<void> {
  const payload = new Uint8Array(catchUpSizes.entryBytes).fill(97);
  const producer = client.producer({ lingerMs: 1, batchEntriesMax: 1_000, inflightRequestsMax: 8, queuedAppendsMax: 100_000 });
  for (let at = options.from; at < options.from + options.count; at += 100_000) {
    const end = Math.min(options.from + options.count, at + 100_000);
    await Promise.all(Array.from({ length: end - at }, (_, i) => producer.append(payload, { id: `c-${at + i}` })));
  }
  await producer.close();
}

/** Polls until `replica` has committed what the leader committed; returns the seconds it took. */
async function caughtUp(options: { client: PaxlogClient; replica: number; leader: number; startedMs: number }): Promise<number> {
  const target = Number((await statusOf(options.client, options.leader))?.['committedInstance']);
  for (;;) {
    const status = await statusOf(options.client, options.replica).catch(() => undefined);
    if (status !== undefined && Number(status['committedInstance']) >= target) return (performance.now() - options.startedMs) / 1000;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * 800,000 entries, a follower stopped, 200,000 more, the follower restarted: log transfer. Then
 * the same follower wiped and restarted with 1,000,000 entries in the log: snapshot and tail.
 */
export async function catchUpRun(cluster: DevCluster, client: PaxlogClient, leader: number): Promise<Metrics> {
  const m: Metrics = {};
  const follower = cluster.peers.find((id) => id !== leader)!;
  const { total, transferred, entryBytes } = catchUpSizes;
  await appendBulk(client, { from: 0, count: total - transferred });
  await cluster.signal(follower, 'SIGTERM');
  await appendBulk(client, { from: total - transferred, count: transferred });
  let started = performance.now();
  cluster.startReplica(follower);
  const transferSeconds = await caughtUp({ client, replica: follower, leader, startedMs: started });
  m['log transfer entries/s'] = transferred / transferSeconds;
  m['log transfer MB/s'] = (transferred * entryBytes) / 1e6 / transferSeconds;
  await cluster.signal(follower, 'SIGTERM');
  rmSync(cluster.replicaDataDir(follower), { recursive: true, force: true });
  started = performance.now();
  cluster.startReplica(follower);
  m['wiped rejoin, 1M entries s'] = await caughtUp({ client, replica: follower, leader, startedMs: started });
  const installed = (await statusOf(client, follower))?.['snapshotInstalledLast'] as { bytes: number; ms: number } | null | undefined;
  if (installed !== null && installed !== undefined) {
    m['snapshot MB'] = installed.bytes / 1e6;
    m['snapshot install MB/s'] = installed.bytes / 1e6 / (installed.ms / 1000);
    m['snapshot install entries/s'] = total / (installed.ms / 1000);
  }
  return m;
}

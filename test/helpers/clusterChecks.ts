import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PaxlogClient } from '../../src/client/PaxlogClient.js';
import { DevCluster } from '../../src/dev/DevCluster.js';
import type { CommittedEntry } from '../../src/log/types.js';

const encoder = new TextEncoder();

/** Waits until `check` holds, polling; throws after `msMax` (a hang guard, not a speed check). */
export async function waitFor<T>(what: string, check: () => Promise<T | null | undefined | false>, msMax = 60_000): Promise<T> {
  const deadline = Date.now() + msMax;
  for (;;) {
    try {
      const value = await check();
      if (value !== null && value !== undefined && value !== false) return value;
    } catch {
      // not yet: the cluster may be electing, reconnecting or restarting
    }
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await sleep(25);
  }
}

/** The replica that serves appends, from the replicas' own status. */
export async function leaderOf(client: PaxlogClient): Promise<number> {
  return waitFor('a serving leader', async () => {
    const serving = (await client.status({ waitMs: 150 })).filter((s) => s['serving'] === true);
    return serving.length === 1 ? Number(serving[0]!['id']) : null;
  });
}

/**
 * Appends `count` single-entry requests with unique ids, `concurrency` at a time, recording what
 * each was acknowledged with. `during` runs once `atCount` acknowledgements are in.
 */
export async function appendMany(options: {
  client: PaxlogClient;
  count: number;
  concurrency: number;
  prefix: string;
  acked: Map<string, number>;
  during?: { atCount: number; run: () => Promise<void> };
}): Promise<void> {
  let next = 0;
  let duringRun: Promise<void> | null = null;
  const worker = async () => {
    while (next < options.count) {
      const id = `${options.prefix}-${next++}`;
      const [result] = await options.client.appendEntries([{ id, data: encoder.encode(`payload of ${id}`) }], { timeoutMs: 60_000 });
      assert.ok(result !== undefined && result.status !== 'conflict', `append ${id}: ${JSON.stringify(result)}`);
      options.acked.set(id, result.offset);
      if (options.during !== undefined && duringRun === null && options.acked.size >= options.during.atCount) duringRun = options.during.run();
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  if (duringRun !== null) await duringRun;
}

export async function readAll(client: PaxlogClient, replica: number): Promise<CommittedEntry[]> {
  const entries: CommittedEntry[] = [];
  for (;;) {
    const page = await client.read({ from: entries.length, limit: 4096, replica });
    if (page.entries.length === 0) return entries;
    entries.push(...page.entries);
  }
}

/**
 * Every replica ends with the same entries in the same order at contiguous offsets, and every
 * acknowledged entry is there exactly once, at the offset its client was told.
 */
export async function verifyReplicas(options: { client: PaxlogClient; peers: readonly number[]; acked: Map<string, number> }): Promise<number> {
  const target = Math.max(...options.acked.values()) + 1;
  await waitFor('every replica to apply every acknowledged entry', async () => {
    const statuses = await options.client.status({ waitMs: 200 });
    const offsets = new Set(statuses.map((s) => Number(s['offsetNext'])));
    return statuses.length === options.peers.length && offsets.size === 1 && [...offsets][0]! >= target;
  });
  const logs = await Promise.all(options.peers.map((replica) => readAll(options.client, replica)));
  const reference = logs[0]!;
  for (const [i, log] of logs.entries()) {
    log.forEach((entry, offset) => assert.equal(entry.offset, offset, `replica ${options.peers[i]}: offsets are not contiguous at ${offset}`));
    assert.deepEqual(log.map((e) => e.id), reference.map((e) => e.id), `replica ${options.peers[i]} disagrees`);
    assert.deepEqual(log.map((e) => e.data), reference.map((e) => e.data), `replica ${options.peers[i]} holds other payloads`);
  }
  const seen = new Map<string, number>();
  for (const entry of reference) {
    assert.ok(entry.id !== undefined);
    assert.equal(seen.has(entry.id), false, `entry ${entry.id} committed twice`);
    seen.set(entry.id, entry.offset);
  }
  for (const [id, offset] of options.acked) assert.equal(seen.get(id), offset, `acknowledged entry ${id} is not at offset ${offset}`);
  return reference.length;
}

/** A fresh cluster for one test: real nats-server, three `paxlog node` processes, temp folders. */
export async function withCluster(
  options: { name: string; logs: string[]; nodeFlags?: string[] },
  body: (cluster: DevCluster, client: PaxlogClient) => Promise<void>,
): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), `paxlog-${options.name}-`));
  const cluster = await DevCluster.start({ dataDir, logs: options.logs, ...(options.nodeFlags === undefined ? {} : { nodeFlags: options.nodeFlags }) });
  let client: PaxlogClient | null = null;
  try {
    client = await PaxlogClient.connect({ servers: cluster.url, log: options.logs[0]! });
    await body(cluster, client);
  } finally {
    await client?.close();
    await cluster.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/**
 * npm run bench [-- --runs N] [-- --vs jetstream] [-- --no-catchup]
 *
 * A local 3-replica paxlog cluster (fsync on, 100-byte entries), measured over fresh runs; with
 * `--vs jetstream`, a 3-server JetStream cluster with an R3 file stream runs the same workloads in
 * the same run, and the table shows paxlog/JetStream ratios. Each run also measures this machine's
 * floor and ceiling with no paxlog code (bench/floor.ts), and a follower's CPU per synchronous
 * append in one process, a figure the machine's noise hardly moves (bench/replicaPath.ts). Prints
 * medians with [min-max].
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { PaxlogClient } from '../src/client/PaxlogClient.js';
import { DevCluster } from '../src/dev/DevCluster.js';
import { catchUpRun } from './catchup.js';
import { floorRun } from './floor.js';
import { JetStreamCluster } from './JetStreamCluster.js';
import { idleLogsRun } from './idleLogs.js';
import { replicaPathRun } from './replicaPath.js';

type Metrics = Record<string, number>;

const payload = new Uint8Array(100).fill(120);
/** Untimed appends first, on both systems: JIT, connections and storage files warm up. */
const sizes = { warmup: 1_000, sync: 2_000, inflight: 20_000, producer: 100_000, window: 10_000, pathAppends: 20_000 };

function percentile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
}

async function timed(run: () => Promise<void>): Promise<number> {
  const started = performance.now();
  await run();
  return (performance.now() - started) / 1000;
}

/** `count` operations, `concurrency` at a time. */
async function inParallel(count: number, concurrency: number, operation: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < count) await operation(next++);
  }));
}

async function leaderWait(client: PaxlogClient): Promise<void> {
  for (;;) {
    const statuses = await client.status({ waitMs: 200 });
    if (statuses.some((s) => s['serving'] === true)) return;
  }
}

/** Every entry from offset 0 through `total - 1`, in entries per second. */
async function replayRate(client: PaxlogClient, total: number): Promise<number> {
  return total / (await timed(async () => {
    let seen = 0;
    for await (const entry of client.entries({ from: 0, waitMs: 0 })) if (++seen === total || entry.offset === total - 1) break;
  }));
}

async function paxlogCluster(flags: string[], body: (client: PaxlogClient, cluster: DevCluster) => Promise<void>): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'paxlog-bench-'));
  const cluster = await DevCluster.start({ dataDir, logs: ['bench'], logLevel: 'warn', nodeFlags: flags });
  let client: PaxlogClient | null = null;
  try {
    client = await PaxlogClient.connect({ servers: cluster.url, log: 'bench' });
    await leaderWait(client);
    await body(client, cluster);
  } finally {
    await client?.close();
    await cluster.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function paxlogRun(): Promise<Metrics> {
  const m: Metrics = {};
  await paxlogCluster([], async (client, cluster) => {
    for (let i = 0; i < sizes.warmup; i++) await client.append(payload, { id: `warmup-${i}` });
    const latencies: number[] = [];
    for (let i = 0; i < sizes.sync; i++) {
      const started = performance.now();
      await client.append(payload, { id: `sync-${i}` });
      latencies.push(performance.now() - started);
    }
    latencies.sort((a, b) => a - b);
    m['sync p50 ms'] = percentile(latencies, 0.5);
    m['sync p99 ms'] = percentile(latencies, 0.99);
    m['256 in flight /s'] = sizes.inflight / (await timed(() => inParallel(sizes.inflight, 256, (i) => client.append(payload, { id: `inflight-${i}` }))));
    const producer = client.producer({ lingerMs: 1, batchEntriesMax: 1_000, inflightRequestsMax: 8, queuedAppendsMax: sizes.producer });
    m['producer /s'] = sizes.producer / (await timed(async () => {
      await Promise.all(Array.from({ length: sizes.producer }, (_, i) => producer.append(payload, { id: `producer-${i}` })));
    }));
    await producer.close();
    const total = sizes.warmup + sizes.sync + sizes.inflight + sizes.producer;
    m['replay /s'] = await replayRate(client, total);
    // Again after every replica restarted: no batch is held decoded in memory, every page is read
    // and decoded from SQLite (the replay above is served mostly from the replicas' batch caches).
    for (const id of [1, 2, 3]) {
      await cluster.signal(id, 'SIGTERM');
      cluster.startReplica(id);
    }
    await leaderWait(client);
    m['replay after restart /s'] = await replayRate(client, total);
  });
  await paxlogCluster(['--inflight-instances-max', '1'], async (client) => {
    m['window 1: 256 in flight /s'] = sizes.window / (await timed(() => inParallel(sizes.window, 256, (i) => client.append(payload, { id: `w-${i}` }))));
  });
  m['window 32: 256 in flight /s'] = m['256 in flight /s']!;
  // The same machine's floor for the sync workload and ceiling for per-append requests, without
  // paxlog: what the targets are up against (bench/floor.ts).
  Object.assign(m, await floorRun({ warmup: sizes.warmup, sync: sizes.sync, inflight: sizes.inflight }));
  Object.assign(m, await replicaPathRun({ appends: sizes.pathAppends }));
  Object.assign(m, await idleLogsRun({ logs: 64, seconds: 10 }));
  if (!process.argv.includes('--no-catchup')) {
    await paxlogCluster([], async (client, cluster) => {
      const leader = Number((await client.status({ waitMs: 200 })).find((s) => s['serving'] === true)?.['id']);
      Object.assign(m, await catchUpRun(cluster, client, leader));
    });
  }
  return m;
}

async function jetstreamRun(): Promise<Metrics> {
  const m: Metrics = {};
  const cluster = await JetStreamCluster.start();
  let nc: Awaited<ReturnType<typeof connect>> | null = null;
  try {
    // noAsyncTraces, as the paxlog client sets it: neither client pays for stack traces per request.
    nc = await connect({ servers: cluster.urls, maxReconnectAttempts: -1, reconnectTimeWait: 100, waitOnFirstConnect: true, noAsyncTraces: true });
    for (;;) {
      try {
        const jsm = await jetstreamManager(nc); // fails until the JetStream meta group has a leader
        await jsm.streams.add({ name: 'bench', subjects: ['bench.>'], num_replicas: 3, storage: 'file' as never });
        break;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
    const js = jetstream(nc, { timeout: 30_000 });
    for (;;) {
      try {
        await js.publish('bench.warmup', payload, { timeout: 2_000 });
        break;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 200)); // the R3 stream is electing its leader
      }
    }
    for (let i = 0; i < sizes.warmup; i++) await js.publish('bench.warmup', payload);
    const latencies: number[] = [];
    for (let i = 0; i < sizes.sync; i++) {
      const started = performance.now();
      await js.publish('bench.x', payload);
      latencies.push(performance.now() - started);
    }
    latencies.sort((a, b) => a - b);
    m['sync p50 ms'] = percentile(latencies, 0.5);
    m['sync p99 ms'] = percentile(latencies, 0.99);
    m['256 in flight /s'] = sizes.inflight / (await timed(() => inParallel(sizes.inflight, 256, () => js.publish('bench.x', payload))));
    m['producer /s'] = sizes.producer / (await timed(() => inParallel(sizes.producer, 256, () => js.publish('bench.x', payload))));
    const total = sizes.warmup + sizes.sync + sizes.inflight + sizes.producer + 1;
    const consumer = await js.consumers.get('bench');
    m['replay /s'] = total / (await timed(async () => {
      const messages = await consumer.consume();
      let seen = 0;
      for await (const _ of messages) if (++seen === total) break;
      await messages.close();
    }));
  } finally {
    await nc?.close();
    await cluster.stop();
  }
  return m;
}

function median(values: number[]): { median: number; min: number; max: number } {
  const sorted = [...values].sort((a, b) => a - b);
  return { median: percentile(sorted, 0.5), min: sorted[0]!, max: sorted[sorted.length - 1]! };
}

function format(value: number, metric: string): string {
  return metric.endsWith('ms') || metric.endsWith(' s') || metric.endsWith('cores') || metric.includes('MB') ? value.toFixed(2) : Math.round(value).toLocaleString('en-US');
}

function table(paxlog: Metrics[], js: Metrics[] | null): string {
  const lines = ['| metric | paxlog | JetStream R3 | paxlog / JetStream |', '| --- | --- | --- | --- |'];
  for (const metric of Object.keys(paxlog[0] ?? {})) {
    const p = median(paxlog.map((m) => m[metric]!));
    const jsValues = js?.map((m) => m[metric]).filter((v): v is number => v !== undefined) ?? [];
    const j = jsValues.length > 0 ? median(jsValues) : null;
    const better = metric.endsWith('ms') ? (j === null ? null : j.median / p.median) : j === null ? null : p.median / j.median;
    lines.push(`| ${metric} | ${format(p.median, metric)} [${format(p.min, metric)}–${format(p.max, metric)}] | ${j === null ? '-' : `${format(j.median, metric)} [${format(j.min, metric)}–${format(j.max, metric)}]`} | ${better === null ? '-' : `${better.toFixed(2)}×`} |`);
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  const runsAt = process.argv.indexOf('--runs');
  const runs = runsAt < 0 ? 3 : Number(process.argv[runsAt + 1]);
  const versus = process.argv.includes('--vs') && process.argv[process.argv.indexOf('--vs') + 1] === 'jetstream';
  const paxlog: Metrics[] = [];
  const js: Metrics[] = [];
  for (let run = 1; run <= runs; run++) {
    paxlog.push(await paxlogRun());
    process.stderr.write(`run ${run} paxlog: ${JSON.stringify(paxlog.at(-1))}\n`);
    if (versus) {
      js.push(await jetstreamRun());
      process.stderr.write(`run ${run} jetstream: ${JSON.stringify(js.at(-1))}\n`);
    }
  }
  console.log(`medians of ${runs} fresh runs [min–max]; 3 replicas and the client on this machine; 100-byte entries; fsync on`);
  console.log('(for latency, the ratio is JetStream/paxlog: above 1× means paxlog is faster)\n');
  console.log(table(paxlog, versus ? js : null));
}

await main();

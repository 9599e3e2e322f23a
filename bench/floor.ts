/**
 * What this machine allows at best, measured in the same run as paxlog, with no paxlog code:
 * - `sync floor`: a synchronous append's messages and writes alone (bench/floorWorker.ts): the
 *   client's request to a leader, accepts to two followers over NATS, a SQLite write at FULL on the
 *   leader and on each follower, the first follower's answer, the reply, and the commit notices
 *   with their unsynced writes. Four NATS hops through one nats-server and an fsync.
 * - `request/reply ceiling`: one Node process answering requests at once with no work, 256 in
 *   flight. The Node client, not the responder, is the busiest process: it uses most of a core,
 *   the responder about a fifth of one (reported as `ceiling: client CPU, cores`), and three
 *   responders in a queue group carry no more.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { NatsServer } from '../src/dev/NatsServer.js';

const workerPath = join(dirname(fileURLToPath(import.meta.url)), 'floorWorker.ts');
const readyMsMax = 30_000;

interface FloorSizes {
  readonly warmup: number;
  readonly sync: number;
  readonly inflight: number;
}

/** Starts one worker and waits for its `ready` line. */
async function workerStart(options: { role: string; name: string; url: string; dir: string }): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', workerPath, options.role, options.url, options.dir, options.name], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`floor worker ${options.name} not ready within ${readyMsMax} ms`)), readyMsMax);
    child.once('exit', (code) => reject(new Error(`floor worker ${options.name} exited (${code})`)));
    lines.once('line', (line) => {
      clearTimeout(timer);
      if (line === 'ready') resolve();
      else reject(new Error(`floor worker ${options.name} said ${line}`));
    });
  });
  return child;
}

async function workersStop(children: ChildProcess[]): Promise<void> {
  await Promise.all(children.map((child) => new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  })));
}

function percentile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
}

async function syncFloor(nc: NatsConnection, sizes: FloorSizes): Promise<{ p50: number; p99: number }> {
  const payload = new Uint8Array(100).fill(120);
  for (let i = 0; i < sizes.warmup; i++) await nc.request('floor.append', payload, { timeout: 5_000 });
  const latencies: number[] = [];
  for (let i = 0; i < sizes.sync; i++) {
    const started = performance.now();
    await nc.request('floor.append', payload, { timeout: 5_000 });
    latencies.push(performance.now() - started);
  }
  latencies.sort((a, b) => a - b);
  return { p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99) };
}

/** Requests per second, and the share of a core this (client) process used meanwhile. */
async function requestCeiling(nc: NatsConnection, sizes: FloorSizes): Promise<{ perSecond: number; clientCores: number }> {
  const payload = new Uint8Array(100).fill(120);
  let next = 0;
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  await Promise.all(Array.from({ length: 256 }, async () => {
    while (next++ < sizes.inflight) await nc.request('floor.request', payload, { timeout: 5_000 });
  }));
  const cpu = process.cpuUsage(cpuBefore);
  const seconds = (performance.now() - started) / 1000;
  return { perSecond: sizes.inflight / seconds, clientCores: (cpu.user + cpu.system) / 1e6 / seconds };
}

/** Both floors, each on fresh processes and a fresh nats-server. */
export async function floorRun(sizes: FloorSizes): Promise<Record<string, number>> {
  const dir = mkdtempSync(join(tmpdir(), 'paxlog-floor-'));
  const server = await NatsServer.start();
  const children: ChildProcess[] = [];
  let nc: NatsConnection | null = null;
  try {
    const url = server.url;
    children.push(await workerStart({ role: 'leader', name: 'leader', url, dir }));
    for (const name of ['follower1', 'follower2']) children.push(await workerStart({ role: 'follower', name, url, dir }));
    nc = await connect({ servers: url, noAsyncTraces: true });
    const sync = await syncFloor(nc, sizes);
    await workersStop(children.splice(0));
    children.push(await workerStart({ role: 'responder', name: 'responder', url, dir }));
    const ceiling = await requestCeiling(nc, sizes);
    return {
      'floor, no paxlog code: sync p50 ms': sync.p50,
      'floor, no paxlog code: sync p99 ms': sync.p99,
      'ceiling, no paxlog code: request/reply 256 in flight /s': ceiling.perSecond,
      // 0.76-0.98 measured: the Node client is the busiest process here, the responder needs ~0.2.
      'ceiling: client CPU, cores': ceiling.clientCores,
    };
  } finally {
    await nc?.close();
    await workersStop(children);
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

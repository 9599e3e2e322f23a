import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findNatsServer } from '../src/dev/NatsServer.js';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/**
 * Three nats-servers with JetStream, clustered on loopback, as in ../shared/anchors/JETSTREAM.md.
 * JetStream needs every member's route at start, so the ports are chosen up front.
 */
export class JetStreamCluster {
  private constructor(
    readonly urls: string[],
    private readonly processes: ChildProcess[],
    private readonly dir: string,
  ) {}

  static async start(): Promise<JetStreamCluster> {
    const server = findNatsServer();
    if (server === null) throw new Error('nats-server is not on PATH');
    const dir = mkdtempSync(join(tmpdir(), 'paxlog-bench-js-'));
    const clientPorts = [await freePort(), await freePort(), await freePort()];
    const clusterPorts = [await freePort(), await freePort(), await freePort()];
    const routes = clusterPorts.map((port) => `nats-route://127.0.0.1:${port}`);
    const processes = clientPorts.map((port, i) => {
      const conf = join(dir, `n${i}.conf`);
      writeFileSync(conf, [
        `server_name: js${i}`,
        `host: 127.0.0.1`,
        `port: ${port}`,
        `jetstream { store_dir: ${JSON.stringify(join(dir, `store${i}`))} }`,
        `cluster { name: bench, host: 127.0.0.1, port: ${clusterPorts[i]}, routes: [${routes.filter((_, j) => j !== i).join(', ')}] }`,
      ].join('\n'));
      return spawn(server, ['-c', conf], { stdio: 'ignore' });
    });
    return new JetStreamCluster(clientPorts.map((port) => `nats://127.0.0.1:${port}`), processes, dir);
  }

  async stop(): Promise<void> {
    await Promise.all(this.processes.map((child) => new Promise<void>((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    })));
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * Real nats-server processes for tests. The first start lets the server pick free loopback ports
 * (`port: -1`) and reads them back from its ports file; `restart()` reuses exactly those ports, so
 * clients with reconnect enabled find the server again. Servers are stopped by their own pid only.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export const natsServerMissingMessage =
  'nats-server was not found on PATH. Install it (Debian/Ubuntu: `apt-get install nats-server`) ' +
  'and make sure it is on PATH.';

/** The nats-server executable on PATH, or null. */
export function findNatsServer(): string | null {
  for (const dir of (process.env['PATH'] ?? '').split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, 'nats-server');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return null;
}

export interface NatsServerOptions {
  /** `server_name`; needed to tell cluster members apart. */
  readonly name?: string;
  /** Enables JetStream with its store in the server's temp dir (kept across restarts). */
  readonly jetstream?: boolean;
  /**
   * Joins a cluster: its name and the route URLs (`clusterUrl`) of members already running. The
   * first member has no routes, which nats-server refuses together with JetStream, so JetStream
   * clusters are out of this helper's reach.
   */
  readonly cluster?: { readonly name: string; readonly routes: readonly string[] };
  /** How long to wait for the ports file before giving up. */
  readonly startMsMax?: number;
  /** How long to wait after SIGTERM before SIGKILL. */
  readonly stopMsMax?: number;
  /** More configuration, as nats-server reads it (an `authorization` or `tls` block, say). */
  readonly configExtra?: string;
}

interface Ports {
  readonly client: number;
  readonly cluster: number | null;
}

const stderrCharsMax = 8192;
const running = new Set<NatsServer>();
let exitHookInstalled = false;

/**
 * The exit hook below does not run when the owning process is SIGKILLed or dies in native code; a
 * watchdog covers that. A shell checks both pids every second: once the owner is gone it sends the
 * server SIGTERM, waits up to 5 s for it to exit and removes the server's folder; once the server
 * is gone it just ends. The server is not its child, so it goes by pid: a pid reused within that
 * second by another process while the owner also dies is the one case it gets wrong.
 */
function watchdogStart(options: { ownerPid: number; serverPid: number; dir: string }): void {
  const script = [
    'while kill -0 "$2" 2>/dev/null; do',
    '  if ! kill -0 "$1" 2>/dev/null; then',
    '    kill -TERM "$2" 2>/dev/null; i=0',
    '    while kill -0 "$2" 2>/dev/null && [ "$i" -lt 50 ]; do sleep 0.1; i=$((i + 1)); done',
    '    rm -rf "$3"; exit 0',
    '  fi',
    '  sleep 1',
    'done',
  ].join('\n');
  const args = ['-c', script, 'paxlog-nats-watchdog', String(options.ownerPid), String(options.serverPid), options.dir];
  spawn('sh', args, { stdio: 'ignore', detached: true }).unref();
}

/** If a test process dies with servers still up, they die with it (each by its own pid). */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const server of running) server.killNow();
  });
}

function portOf(url: string | undefined): number | null {
  if (url === undefined) return null;
  const port = Number(new URL(url).port);
  return Number.isSafeInteger(port) && port > 0 ? port : null;
}

function configText(options: { dir: string; server: NatsServerOptions; ports: Ports | null }): string {
  const { dir, server, ports } = options;
  const lines = [
    'host: 127.0.0.1',
    `port: ${ports?.client ?? -1}`,
    `ports_file_dir: ${JSON.stringify(dir)}`,
  ];
  if (server.name !== undefined) lines.push(`server_name: ${JSON.stringify(server.name)}`);
  if (server.jetstream === true) lines.push(`jetstream { store_dir: ${JSON.stringify(dir)} }`);
  if (server.cluster !== undefined) {
    const routes = server.cluster.routes.map((route) => JSON.stringify(route)).join(', ');
    lines.push(
      'cluster {',
      `  name: ${JSON.stringify(server.cluster.name)}`,
      `  listen: "127.0.0.1:${ports?.cluster ?? -1}"`,
      `  routes: [${routes}]`,
      '}',
    );
  }
  if (server.configExtra !== undefined) lines.push(server.configExtra);
  return lines.join('\n') + '\n';
}

export class NatsServer {
  private child: ChildProcess | null = null;
  private exited: Promise<void> = Promise.resolve();
  private stderrTail = '';
  private portsNow: Ports | null = null;

  private constructor(
    private readonly binary: string,
    private readonly dir: string,
    private readonly options: NatsServerOptions,
  ) {}

  /** Starts a server on free loopback ports. Throws natsServerMissingMessage if there is none. */
  static async start(options: NatsServerOptions = {}): Promise<NatsServer> {
    const binary = findNatsServer();
    if (binary === null) throw new Error(natsServerMissingMessage);
    const server = new NatsServer(binary, mkdtempSync(join(tmpdir(), 'paxlog-nats-')), options);
    try {
      await server.launch();
    } catch (error) {
      await server.stop();
      throw error;
    }
    return server;
  }

  get port(): number {
    if (this.portsNow === null) throw new Error('nats-server has not started');
    return this.portsNow.client;
  }

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  /** The route URL other cluster members list in `cluster.routes`, or null without a cluster. */
  get clusterUrl(): string | null {
    const port = this.portsNow?.cluster ?? null;
    return port === null ? null : `nats-route://127.0.0.1:${port}`;
  }

  get pid(): number | null {
    return this.child?.pid ?? null;
  }

  /** Stops the server (SIGTERM, then SIGKILL after stopMsMax) and removes its temp dir. */
  async stop(): Promise<void> {
    await this.halt();
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** Stops the server and starts it again on the same ports, with the same JetStream store. */
  async restart(options: { readonly downMs?: number } = {}): Promise<void> {
    await this.halt();
    if (options.downMs !== undefined) await sleep(options.downMs);
    await this.launch();
  }

  /** Synchronous last resort for the exit hook. */
  killNow(): void {
    if (this.child !== null && this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async launch(): Promise<void> {
    const confPath = join(this.dir, 'nats-server.conf');
    writeFileSync(confPath, configText({ dir: this.dir, server: this.options, ports: this.portsNow }));
    this.stderrTail = '';
    const child = spawn(this.binary, ['-c', confPath], { stdio: ['ignore', 'ignore', 'pipe'] });
    this.child = child;
    // 'error' without 'exit' happens when the process never started.
    this.exited = new Promise((resolve) => {
      child.once('exit', () => resolve());
      child.once('error', () => resolve());
    });
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (text: string) => {
      this.stderrTail = (this.stderrTail + text).slice(-stderrCharsMax);
    });
    child.once('error', (error) => {
      this.stderrTail += `\nspawn error: ${error.message}`;
    });
    running.add(this);
    installExitHook();
    if (child.pid !== undefined) watchdogStart({ ownerPid: process.pid, serverPid: child.pid, dir: this.dir });
    const ports = await this.waitForPorts(child);
    if (this.portsNow !== null && ports.client !== this.portsNow.client) {
      throw new Error(`nats-server restarted on port ${ports.client}, expected ${this.portsNow.client}`);
    }
    this.portsNow = ports;
  }

  /** Polls for `<exe>_<pid>.ports`, bounded by startMsMax; fails at once if the process exits. */
  private async waitForPorts(child: ChildProcess): Promise<Ports> {
    const deadline = Date.now() + (this.options.startMsMax ?? 10_000);
    const suffix = `_${child.pid}.ports`;
    while (Date.now() < deadline) {
      if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) {
        throw new Error(`nats-server exited before it was ready:\n${this.stderrTail}`);
      }
      const name = readdirSync(this.dir).find((file) => file.endsWith(suffix));
      const ports = name === undefined ? null : this.readPorts(join(this.dir, name));
      if (ports !== null) return ports;
      await sleep(20);
    }
    throw new Error(`nats-server wrote no ports file within ${this.options.startMsMax ?? 10_000} ms:\n${this.stderrTail}`);
  }

  /** null while the file is still being written. */
  private readPorts(path: string): Ports | null {
    try {
      const parsed = JSON.parse(readFileSync(path, 'utf8')) as { nats?: string[]; cluster?: string[] };
      const client = portOf(parsed.nats?.[0]);
      if (client === null) return null;
      if (this.options.cluster !== undefined && portOf(parsed.cluster?.[0]) === null) return null;
      return { client, cluster: portOf(parsed.cluster?.[0]) };
    } catch {
      return null;
    }
  }

  /** Waits for the exit up to `ms`, without leaving a timer behind to hold the event loop. */
  private async exitedWithin(ms: number): Promise<boolean> {
    const timer = new AbortController();
    const timeout = sleep(ms, false, { signal: timer.signal }).catch(() => true);
    const exited = await Promise.race([this.exited.then(() => true), timeout]);
    timer.abort();
    return exited;
  }

  /** Stops the server but keeps its ports and folder: restart() brings it back on the same port. */
  async halt(): Promise<void> {
    const child = this.child;
    if (child === null) return;
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      if (!(await this.exitedWithin(this.options.stopMsMax ?? 5_000))) child.kill('SIGKILL');
    }
    await this.exited;
    this.child = null;
    running.delete(this);
  }
}

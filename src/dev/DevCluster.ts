import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { NatsServer } from './NatsServer.js';

/**
 * How to run the paxlog CLI from here: the compiled file, or the source through tsx (the loader
 * found from this package, by absolute URL: a bare `--import tsx` would be looked up from the
 * working directory, and fail anywhere outside this package). With PAXLOG_CPU_PROF_DIR set, each
 * process writes a V8 CPU profile there when it exits (for finding where a benchmark's time goes).
 */
export function cliCommand(): string[] {
  const here = fileURLToPath(import.meta.url);
  const profDir = process.env['PAXLOG_CPU_PROF_DIR'];
  const prof = profDir === undefined || profDir === '' ? [] : ['--cpu-prof', '--cpu-prof-dir', profDir];
  if (!here.endsWith('.ts')) return [process.execPath, ...prof, join(dirname(here), '..', 'cli', 'main.js')];
  const tsxLoader = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  return [process.execPath, ...prof, '--import', tsxLoader, join(dirname(here), '..', 'cli', 'main.ts')];
}

/** A replica process that exited without being asked to: a crash, or a start that failed. */
export interface ReplicaExit {
  readonly id: number;
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** Lines of a replica's log shown with its failure. */
const failureLogLinesMax = 12;

export interface DevClusterOptions {
  readonly dataDir: string;
  readonly logs: readonly string[];
  readonly replicas?: number;
  readonly logLevel?: string;
  /** Extra flags for every `paxlog node`, e.g. ['--lease-ticks', '100']. */
  readonly nodeFlags?: readonly string[];
}

/**
 * A local cluster: its own nats-server on a free loopback port and one `paxlog node` process per
 * replica, each with its data folder and its log file under `dataDir`. Used by `paxlog dev` and by
 * the integration tests, which kill, stop and restart replicas and the server.
 */
export class DevCluster {
  readonly processes = new Map<number, ChildProcess>();
  readonly peers: number[];
  /** Replicas that exited unasked, in order (see replicaFailure). */
  readonly exitsUnasked: ReplicaExit[] = [];
  /** Processes that signal() or stop() asked to exit. */
  private readonly asked = new WeakSet<ChildProcess>();

  private constructor(
    readonly nats: NatsServer,
    private readonly options: DevClusterOptions,
  ) {
    this.peers = Array.from({ length: options.replicas ?? 3 }, (_, i) => i + 1);
  }

  static async start(options: DevClusterOptions): Promise<DevCluster> {
    mkdirSync(options.dataDir, { recursive: true });
    const nats = await NatsServer.start({ name: 'paxlog-dev' });
    const cluster = new DevCluster(nats, options);
    running.add(cluster);
    installExitHook();
    for (const id of cluster.peers) cluster.startReplica(id);
    return cluster;
  }

  get url(): string {
    return this.nats.url;
  }

  replicaDataDir(id: number): string {
    return join(this.options.dataDir, `r${id}`);
  }

  /** Starts replica `id`; `env` adds to its environment (a test's PAXLOG_CRASH_AT, say). */
  startReplica(id: number, options: { env?: Readonly<Record<string, string>> } = {}): ChildProcess {
    if (this.processes.has(id)) throw new Error(`replica ${id} is already running`);
    const [command, ...prefix] = cliCommand();
    const args = [
      ...prefix, 'node',
      '--id', String(id),
      '--peers', this.peers.join(','),
      '--logs', this.options.logs.join(','),
      '--data', this.replicaDataDir(id),
      '--nats', this.nats.url,
      '--log-level', this.options.logLevel ?? 'info',
      ...(this.options.nodeFlags ?? []),
    ];
    const logFd = openSync(join(this.options.dataDir, `r${id}.log`), 'a');
    const env = { ...process.env, ...options.env, PAXLOG_STOP_WITH_PARENT: String(process.pid) };
    const child = spawn(command!, args, { stdio: ['ignore', logFd, logFd], env });
    closeSync(logFd);
    this.processes.set(id, child);
    child.once('exit', (code, signal) => {
      if (!this.asked.has(child)) this.exitsUnasked.push({ id, code, signal });
      if (this.processes.get(id) === child) this.processes.delete(id);
    });
    return child;
  }

  /** The first replica that exited unasked, for people (see exitText); null while none has. */
  replicaFailure(): string | null {
    const exit = this.exitsUnasked[0];
    return exit === undefined ? null : this.exitText(exit);
  }

  /** How a replica ended, where its log is, and the log's last lines. */
  exitText(exit: ReplicaExit): string {
    const logPath = join(this.options.dataDir, `r${exit.id}.log`);
    let logTail = '';
    try {
      logTail = readFileSync(logPath, 'utf8').trimEnd().split('\n').slice(-failureLogLinesMax).join('\n');
    } catch {
      logTail = '(no log)';
    }
    return `replica ${exit.id} exited (${exit.signal ?? `code ${exit.code}`}); the end of its log, ${logPath}:\n${logTail}`;
  }

  /** Sends `signal` to a replica and waits for it to exit; returns its exit code or signal. */
  async signal(id: number, signal: NodeJS.Signals): Promise<number | string> {
    const child = this.processes.get(id);
    if (child === undefined) throw new Error(`replica ${id} is not running`);
    const exited = new Promise<number | string>((resolve) => child.once('exit', (code, sig) => resolve(code ?? sig ?? 'unknown')));
    this.asked.add(child);
    child.kill(signal);
    const result = await exited;
    this.processes.delete(id);
    return result;
  }

  /** Stops every replica (SIGTERM, SIGKILL after `graceMs`) and the nats-server. */
  async stop(options: { graceMs?: number } = {}): Promise<void> {
    const grace = options.graceMs ?? 5_000;
    await Promise.all(
      [...this.processes.keys()].map(async (id) => {
        const child = this.processes.get(id);
        if (child === undefined) return;
        const timer = setTimeout(() => child.kill('SIGKILL'), grace);
        await this.signal(id, 'SIGTERM');
        clearTimeout(timer);
      }),
    );
    await this.nats.stop();
    running.delete(this);
  }
}

const running = new Set<DevCluster>();
let exitHookInstalled = false;

/** If the owning process exits with replicas still up, they go with it (each by its own pid). */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const cluster of running) for (const child of cluster.processes.values()) child.kill('SIGKILL');
  });
}

import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { cliCommand } from '../../src/dev/DevCluster.js';
import { waitFor } from '../helpers/clusterChecks.js';

const run = promisify(execFile);
const [node, ...prefix] = cliCommand();

/** `paxlog` as a user runs it: bin/paxlog.mjs, from `cwd` (this package's folder by default). */
const bin = fileURLToPath(new URL('../../bin/paxlog.mjs', import.meta.url));

async function paxlog(args: string[], options: { cwd?: string; bin?: boolean } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const command = options.bin === true ? [bin] : prefix;
  try {
    const { stdout, stderr } = await run(node!, [...command, ...args], { timeout: 60_000, ...(options.cwd === undefined ? {} : { cwd: options.cwd }) });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** The processes `pid` started, with their command lines. */
async function childrenOf(pid: number): Promise<Array<{ pid: number; args: string }>> {
  const { stdout } = await run('ps', ['-o', 'pid=,args=', '--ppid', String(pid)]).catch(() => ({ stdout: '' }));
  return stdout.trim().split('\n').filter((line) => line.trim() !== '').map((line) => {
    const [pidText, ...args] = line.trim().split(/\s+/);
    return { pid: Number(pidText), args: args.join(' ') };
  });
}

/** Running: not gone and not a zombie left for a parent that no longer waits. */
function isRunning(pid: number): boolean {
  try {
    const state = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0];
    return state !== undefined && state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/** `paxlog dev` on a fresh data folder, once it has printed its NATS URL. */
async function devStart(): Promise<{ dev: ChildProcess; dataDir: string; url: string }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'paxlog-cli-'));
  const dev = spawn(node!, [...prefix, 'dev', '--data', dataDir], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  dev.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
  try {
    const url = await waitFor('paxlog dev to print its NATS URL', async () => /nats:\/\/127\.0\.0\.1:\d+/.exec(out)?.[0]);
    return { dev, dataDir, url };
  } catch (error) {
    dev.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
}

/** `paxlog status` of the default log, once it shows a serving replica: the table it printed. */
async function statusWithLeader(url: string): Promise<string> {
  return waitFor('a leader in paxlog status', async () => {
    const result = await paxlog(['status', '--nats', url, '--log', 'default']);
    return result.code === 0 && /\n\d+\s+yes\s/.test(result.stdout) ? result.stdout : null;
  });
}

describe('the paxlog command', () => {
  it('paxlog node refuses a bad config and names each bad field', async () => {
    const result = await paxlog(['node', '--id', '4', '--peers', '1,2,x', '--logs', 'bad.name', '--data', '/tmp/x', '--nats', 'http://nope']);
    assert.equal(result.code, 2);
    for (const field of ['peers', 'logs', 'natsUrl']) assert.match(result.stderr, new RegExp(`${field}`), `names ${field}`);
  });

  it('paxlog status with no NATS server there says so in one line, with no stack trace', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const result = await paxlog(['status', '--nats', `nats://127.0.0.1:${port}`, '--log', 'default']);
    assert.equal(result.code, 1);
    assert.equal(result.stderr, `paxlog: cannot use the NATS server at nats://127.0.0.1:${port}: connection refused\n`);
  });

  it('paxlog dev runs a cluster, paxlog status prints its table, and Ctrl-C stops everything', async () => {
    const { dev, dataDir, url } = await devStart();
    try {
      const status = await statusWithLeader(url);
      assert.match(status, /replica\s+serving\s+vote\s+tail\s+lease holder\s+lease left ms\s+committed inst\s+accepted inst\s+committed offset\s+first offset\s+lag inst/);
      assert.equal(status.trim().split('\n').length, 5, 'a header line plus one line per replica');
      const tails = status.trim().split('\n').slice(1).map((line) => line.trim().split(/\s+/)[3]);
      assert.equal(tails.filter((tail) => tail === 'yes').length, 1, 'one replica publishes the plain live tail');
      const exited = new Promise<number | null>((resolve) => dev.once('exit', (code) => resolve(code)));
      dev.kill('SIGINT');
      assert.equal(await exited, 0);
      assert.ok(existsSync(join(dataDir, 'r1', 'default.sqlite')));
      const after = await paxlog(['status', '--nats', url, '--log', 'default']);
      assert.notEqual(after.code, 0, 'nothing answers once dev has stopped');
    } finally {
      if (dev.exitCode === null) dev.kill('SIGKILL');
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('paxlog append, read and tail, for people and with --json for scripts', async () => {
    const { dev, dataDir, url } = await devStart();
    let tail: ChildProcess | null = null;
    try {
      const at = ['--nats', url, '--log', 'default'];
      const appended = await waitFor('a leader to take appends', async () => {
        const result = await paxlog(['append', ...at, '--key', 'k1', '--json', 'first', 'second']);
        return result.code === 0 ? result.stdout : null;
      });
      const lines = appended.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
      assert.deepEqual(lines.map((l) => [l['ok'], l['offset']]), [[true, 0], [true, 1]]);
      const stale = await paxlog(['append', ...at, '--expected-offset', '0', '--json', 'late']);
      assert.equal(stale.code, 1, 'a refused append makes the command fail');
      assert.deepEqual(JSON.parse(stale.stdout), { ok: false, error: 'conflict', message: JSON.parse(stale.stdout).message, offsetNext: 2 });
      const human = await paxlog(['append', ...at, 'third']);
      assert.match(human.stdout, /^appended at offset 2\n$/);
      const read = await paxlog(['read', ...at, '--from', '1', '--json']);
      assert.deepEqual(read.stdout.trim().split('\n').map((line) => JSON.parse(line).data), ['second', 'third']);
      const readHuman = await paxlog(['read', ...at]);
      assert.match(readHuman.stdout, /\(3 entries; next offset 3\)/);
      tail = spawn(node!, [...prefix, 'tail', ...at, '--from', '0', '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let tailed = '';
      tail.stdout!.on('data', (chunk: Buffer) => (tailed += chunk.toString()));
      await waitFor('tail to replay the three entries', async () => (tailed.trim().split('\n').length >= 3 ? true : null));
      await paxlog(['append', ...at, 'fourth']);
      await waitFor('tail to show the live append', async () => (tailed.includes('"fourth"') ? true : null));
      const tailExit = new Promise<number | null>((resolve) => tail!.once('exit', (code) => resolve(code)));
      tail.kill('SIGINT');
      assert.equal(await tailExit, 0);
      const entries = tailed.trim().split('\n').map((line) => JSON.parse(line) as { offset: number; key: string | null; data: string });
      assert.deepEqual(entries.map((e) => [e.offset, e.key, e.data]), [[0, 'k1', 'first'], [1, 'k1', 'second'], [2, null, 'third'], [3, null, 'fourth']]);
    } finally {
      if (tail !== null && tail.exitCode === null) tail.kill('SIGKILL');
      const exited = new Promise<void>((resolve) => dev.once('exit', () => resolve()));
      if (dev.exitCode === null) {
        dev.kill('SIGINT');
        await exited;
      }
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('paxlog demo, run from a folder outside the package: appends, a refused stale offset, a retry written once, the tail, the status table, and hints that work there', async () => {
    // The replicas it starts load paxlog through tsx; a bare `--import tsx` resolved from the
    // working directory, so outside the package every replica failed and the demo waited forever.
    // Its hints said `npm run paxlog --`, which works only inside the package.
    const elsewhere = mkdtempSync(join(tmpdir(), 'paxlog-cli-'));
    const demo = spawn(node!, [bin, 'demo', '--data', join(elsewhere, 'demo')], { cwd: elsewhere, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    demo.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
    demo.stderr!.on('data', (chunk: Buffer) => (err += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => demo.once('exit', (code) => resolve(code)));
    try {
      await waitFor('the demo to print its hints', async () => {
        if (demo.exitCode !== null) throw new Error(`the demo exited ${demo.exitCode}: ${err}`);
        return out.includes('Ctrl-C stops everything') ? true : null;
      });
      for (const offset of [0, 1, 2]) assert.match(out, new RegExp(`expecting offset ${offset}: committed at offset ${offset}`));
      assert.match(out, /"withdrew 500" expecting offset 1: refused, the log has moved on \(next offset 3\)/);
      assert.match(out, /already committed at offset 1, not written twice/);
      assert.match(out, /\n\s+2\s+\S+\s+\[account\.42\]\s+withdrew 30\n/);
      const rows = out.split('status:\n')[1]!.split('\n\n')[0]!.trim().split('\n').slice(1);
      assert.equal(rows.length, 3, 'one status row per replica');
      assert.equal(rows.filter((row) => row.trim().split(/\s+/)[1] === 'yes').length, 1, 'one replica serves');
      const hint = out.split('\n').find((line) => / append --nats /.test(line));
      assert.ok(hint !== undefined, `an append hint in: ${out}`);
      const appended = await run('sh', ['-c', hint.trim()], { cwd: elsewhere, timeout: 60_000 });
      assert.equal(appended.stdout, 'appended at offset 3\n', `the hint, run where the demo ran: ${hint.trim()}`);
      demo.kill('SIGINT');
      assert.equal(await exited, 0);
    } finally {
      if (demo.exitCode === null) demo.kill('SIGKILL');
      await exited;
      rmSync(elsewhere, { recursive: true, force: true });
    }
  });

  it('paxlog dev reports each replica that exits, with the end of its log, and stops once none is left', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'paxlog-cli-'));
    try {
      const result = await paxlog(['dev', '--data', dataDir, '--log-level', 'nope']);
      assert.equal(result.code, 1);
      for (const id of [1, 2, 3]) assert.match(result.stderr, new RegExp(`paxlog dev: replica ${id} exited \\(code 2\\); the end of its log, ${dataDir}/r${id}.log:`));
      assert.match(result.stderr, /invalid replica config: logLevel/, 'the reason, from the replica\'s own log');
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('replicas and the nats-server that paxlog dev started stop by themselves when it is SIGKILLed', async () => {
    const { dev, dataDir, url } = await devStart();
    let children: Array<{ pid: number; args: string }> = [];
    try {
      await statusWithLeader(url);
      children = await childrenOf(dev.pid!);
      const replicas = children.filter((child) => / node --id \d/.test(child.args));
      assert.equal(replicas.length, 3, `three replica processes among ${JSON.stringify(children)}`);
      const natsServer = children.find((child) => /nats-server/.test(child.args));
      assert.ok(natsServer !== undefined, `a nats-server among ${JSON.stringify(children)}`);
      const watchdog = children.find((child) => child.args.includes('paxlog-nats-watchdog'));
      assert.ok(watchdog !== undefined, `the nats-server's watchdog among ${JSON.stringify(children)}`);
      const natsDir = watchdog.args.split(/\s+/).at(-1)!;
      assert.ok(natsDir.includes('paxlog-nats-') && existsSync(natsDir), `the nats-server's folder ${natsDir}`);
      const exited = new Promise<void>((resolve) => dev.once('exit', () => resolve()));
      dev.kill('SIGKILL'); // no exit hook runs in paxlog dev
      await exited;
      await waitFor('every replica to stop once its parent is gone', async () => (replicas.some((r) => isRunning(r.pid)) ? null : true));
      await waitFor('the nats-server to stop once its owner is gone', async () => (isRunning(natsServer.pid) ? null : true));
      await waitFor('the nats-server folder to be removed', async () => (existsSync(natsDir) ? null : true));
      assert.ok(existsSync(join(dataDir, 'r1', 'default.sqlite')));
    } finally {
      if (dev.exitCode === null) dev.kill('SIGKILL');
      for (const child of children) if (isRunning(child.pid)) process.kill(child.pid, 'SIGKILL'); // whatever outlived it, by pid
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

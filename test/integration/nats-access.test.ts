import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { connect, nkeyAuthenticator, nkeys } from '@nats-io/transport-node';
import { PaxlogClient } from '../../src/client/PaxlogClient.js';
import { cliCommand } from '../../src/dev/DevCluster.js';
import { NatsServer } from '../../src/dev/NatsServer.js';
import { waitFor } from '../helpers/clusterChecks.js';
import { natsOperatorSetup } from '../helpers/natsJwt.js';

const run = promisify(execFile);
const [node, ...prefix] = cliCommand();
const tls = (name: string) => fileURLToPath(new URL(`../fixtures/tls/${name}`, import.meta.url));
const peers = [1, 2, 3];
/** How long a replica may take to stop after SIGTERM before it is killed. */
const stopGraceMs = 5_000;

/** `paxlog` with `args`: its exit code and output. */
async function paxlog(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(node!, [...prefix, ...args], { timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** SIGTERM, then SIGKILL if it has not stopped within stopGraceMs; resolves once it has exited. */
function replicaStop(child: ChildProcess): Promise<void> {
  return new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const timer = setTimeout(() => child.kill('SIGKILL'), stopGraceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/**
 * A nats-server with `configExtra` and three `paxlog node` processes, each reaching it with the
 * NATS flags `natsFlags` gives; `body` runs, then everything stops. The replica logs are returned
 * for checks.
 */
async function withSecuredCluster(
  options: { configExtra: string; natsFlags: (id: number, server: NatsServer) => string[] },
  body: (server: NatsServer) => Promise<void>,
): Promise<string> {
  const dataDir = mkdtempSync(join(tmpdir(), 'paxlog-access-'));
  const server = await NatsServer.start({ name: 'paxlog-access', configExtra: options.configExtra });
  const replicas: ChildProcess[] = [];
  try {
    for (const id of peers) {
      const logFd = openSync(join(dataDir, `r${id}.log`), 'a');
      const args = [...prefix, 'node', '--id', String(id), '--peers', peers.join(','), '--logs', 'default', '--data', join(dataDir, `r${id}`), '--log-level', 'info', ...options.natsFlags(id, server)];
      replicas.push(spawn(node!, args, { stdio: ['ignore', logFd, logFd], env: { ...process.env, PAXLOG_STOP_WITH_PARENT: String(process.pid) } }));
      closeSync(logFd);
    }
    await body(server);
    return peers.map((id) => readFileSync(join(dataDir, `r${id}.log`), 'utf8')).join('\n');
  } finally {
    await Promise.all(replicas.map(replicaStop));
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** `paxlog status` through `natsFlags`, once it shows one serving replica among three. */
async function statusWithLeader(natsFlags: string[]): Promise<string> {
  return waitFor('a leader in paxlog status', async () => {
    const result = await paxlog(['status', ...natsFlags, '--log', 'default']);
    return result.code === 0 && /\n\d+\s+yes\s/.test(result.stdout) && result.stdout.trim().split('\n').length === 5 ? result.stdout : null;
  });
}

describe('reaching a NATS server that requires authentication or TLS', { concurrency: false }, () => {
  it('replicas, the CLI and the client get in with a user and password in the URL, or an NKey; bad credentials fail in one line; no secret is shown or logged', async () => {
    const password = 's3cr@t-pass';
    const user = nkeys.createUser();
    const seedDir = mkdtempSync(join(tmpdir(), 'paxlog-access-seed-'));
    const seedFile = join(seedDir, 'replica.nk');
    writeFileSync(seedFile, `${new TextDecoder().decode(user.getSeed())}\n`, { mode: 0o600 });
    const configExtra = `authorization { users = [ { user: "alice", password: ${JSON.stringify(password)} }, { nkey: "${user.getPublicKey()}" } ] }`;
    const withPassword = (server: NatsServer) => `nats://alice:${encodeURIComponent(password)}@127.0.0.1:${server.port}`;
    try {
      const logs = await withSecuredCluster({ configExtra, natsFlags: (id, server) => (id === 2 ? ['--nats', server.url, '--nats-nkey', seedFile] : ['--nats', withPassword(server)]) }, async (server) => {
        const status = await statusWithLeader(['--nats', server.url, '--nats-nkey', seedFile]);
        assert.equal(status.split('\n')[0], 'log default: 3 replicas answered');
        const appended = await paxlog(['append', '--nats', withPassword(server), '--log', 'default', 'hello']);
        assert.equal(appended.stdout, 'appended at offset 0\n', appended.stderr);
        const refused = await paxlog(['read', '--nats', `nats://alice:not-${encodeURIComponent(password)}@127.0.0.1:${server.port}`, '--log', 'default']);
        assert.equal(refused.code, 1);
        assert.equal(refused.stderr, `paxlog: cannot use the NATS server at nats://alice:***@127.0.0.1:${server.port}: Authorization Violation\n`);
        const anonymous = await paxlog(['read', '--nats', server.url, '--log', 'default']);
        assert.match(anonymous.stderr, /^paxlog: cannot use the NATS server at nats:\/\/127\.0\.0\.1:\d+: Authorization Violation\n$/);
        // A connection the application made itself, with its own authenticator, and keeps.
        const nc = await connect({ servers: server.url, authenticator: nkeyAuthenticator(user.getSeed()) });
        try {
          const client = PaxlogClient.over(nc, { log: 'default' });
          assert.equal((await client.append(new TextEncoder().encode('over'), { id: 'over-1' })).offset, 1);
          await client.close();
          assert.equal(nc.isClosed(), false, 'close() leaves a connection the client does not own open');
          await assert.rejects(client.append(new TextEncoder().encode('late')), (error: unknown) => (error as { code?: string }).code === 'closed', 'a closed client refuses at once');
        } finally {
          await nc.close();
        }
      });
      assert.doesNotMatch(logs, /s3cr/, 'no replica logged the password');
      assert.match(logs, /"nats":"nats:\/\/alice:\*\*\*@127\.0\.0\.1:\d+"/, 'the replicas log the URL without its password');
    } finally {
      rmSync(seedDir, { recursive: true, force: true });
    }
  });

  it('replicas and the CLI get in over TLS with a private CA and client certificates (mutual TLS); without a certificate the CLI fails in one line', async () => {
    const configExtra = `tls { cert_file: ${JSON.stringify(tls('server.pem'))}, key_file: ${JSON.stringify(tls('server-key.pem'))}, ca_file: ${JSON.stringify(tls('ca.pem'))}, verify: true }`;
    const tlsFlags = (server: NatsServer) => ['--nats', `tls://127.0.0.1:${server.port}`, '--nats-tls-ca', tls('ca.pem'), '--nats-tls-cert', tls('client.pem'), '--nats-tls-key', tls('client-key.pem')];
    await withSecuredCluster({ configExtra, natsFlags: (_id, server) => tlsFlags(server) }, async (server) => {
      await statusWithLeader(tlsFlags(server));
      const appended = await paxlog(['append', ...tlsFlags(server), '--log', 'default', 'over tls']);
      assert.equal(appended.stdout, 'appended at offset 0\n', appended.stderr);
      const read = await paxlog(['read', ...tlsFlags(server), '--log', 'default', '--json']);
      assert.equal(JSON.parse(read.stdout.trim()).data, 'over tls');
      const noCertificate = await paxlog(['read', '--nats', `tls://127.0.0.1:${server.port}`, '--nats-tls-ca', tls('ca.pem'), '--log', 'default']);
      assert.equal(noCertificate.code, 1);
      assert.equal(noCertificate.stderr.split('\n').length, 2, `one line: ${noCertificate.stderr}`);
      assert.match(noCertificate.stderr, /^paxlog: cannot use the NATS server at tls:\/\/127\.0\.0\.1:\d+: /);
    });
  });

  it('replicas and the CLI get in with a creds file (operator mode: a user JWT and its NKey seed)', async () => {
    const operator = natsOperatorSetup();
    const credsDir = mkdtempSync(join(tmpdir(), 'paxlog-access-creds-'));
    const credsFile = (name: string): string => {
      const path = join(credsDir, `${name}.creds`);
      writeFileSync(path, operator.credsText(), { mode: 0o600 });
      return path;
    };
    try {
      await withSecuredCluster({ configExtra: operator.configExtra, natsFlags: (id, server) => ['--nats', server.url, '--nats-creds', credsFile(`replica-${id}`)] }, async (server) => {
        const cli = ['--nats', server.url, '--nats-creds', credsFile('cli')];
        await statusWithLeader(cli);
        const appended = await paxlog(['append', ...cli, '--log', 'default', 'with creds']);
        assert.equal(appended.stdout, 'appended at offset 0\n', appended.stderr);
        const anonymous = await paxlog(['read', '--nats', server.url, '--log', 'default']);
        assert.match(anonymous.stderr, /^paxlog: cannot use the NATS server at nats:\/\/127\.0\.0\.1:\d+: Authorization Violation\n$/);
        const missing = await paxlog(['read', '--nats', server.url, '--nats-creds', join(credsDir, 'none.creds'), '--log', 'default']);
        assert.match(missing.stderr, /^paxlog: cannot use the NATS server at nats:\/\/127\.0\.0\.1:\d+: cannot read the NATS creds file .*none\.creds: ENOENT.*\n$/);
      });
    } finally {
      rmSync(credsDir, { recursive: true, force: true });
    }
  });

  it('a replica refuses, in one line, a NATS server whose max_payload is below the 1 MiB its messages are sized for', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'paxlog-access-payload-'));
    const server = await NatsServer.start({ name: 'paxlog-small-payload', configExtra: 'max_payload: 65536' });
    try {
      const refused = await paxlog(['node', '--id', '1', '--peers', '1', '--logs', 'default', '--data', join(dataDir, 'r1'), '--nats', server.url]);
      assert.equal(refused.code, 1);
      assert.equal(refused.stderr, `paxlog: cannot use the NATS server at ${server.url}: its max_payload is 65536 bytes; paxlog needs at least 1048576 (the server's default), which its batches, pages and snapshot chunks are sized for\n`);
    } finally {
      await server.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('a replica started while its NATS server is down logs each failed try, and starts once the server is back', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'paxlog-access-late-'));
    const server = await NatsServer.start({ name: 'paxlog-late' });
    let replica: ChildProcess | null = null;
    try {
      await server.halt();
      const logPath = join(dataDir, 'r1.log');
      const logFd = openSync(logPath, 'a');
      replica = spawn(node!, [...prefix, 'node', '--id', '1', '--peers', '1', '--logs', 'default', '--data', join(dataDir, 'r1'), '--nats', server.url], { stdio: ['ignore', logFd, logFd], env: { ...process.env, PAXLOG_STOP_WITH_PARENT: String(process.pid) } });
      closeSync(logFd);
      await waitFor('the replica to log that NATS is not there', async () => readFileSync(logPath, 'utf8').includes('cannot reach NATS yet; trying again'));
      assert.equal(replica.exitCode, null, 'it waits for NATS instead of exiting');
      await server.restart();
      const client = await PaxlogClient.connect({ servers: server.url, log: 'default' });
      try {
        const offset = await waitFor('the replica to take an append', async () => (await client.append(new TextEncoder().encode('late'), { id: 'late-1', timeoutMs: 2_000 })).offset + 1);
        assert.equal(offset - 1, 0);
      } finally {
        await client.close();
      }
    } finally {
      if (replica !== null) await replicaStop(replica);
      await server.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

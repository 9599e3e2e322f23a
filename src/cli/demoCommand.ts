import { rmSync } from 'node:fs';
import { isAbsolute, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConflictError, PaxlogClient } from '../client/PaxlogClient.js';
import { DevCluster } from '../dev/DevCluster.js';
import { findNatsServer, natsServerMissingMessage } from '../dev/NatsServer.js';
import { statusTable } from './statusCommand.js';

export const demoUsage = `paxlog demo [--data DIR] [--exit]
Starts a local 3-replica cluster with its own nats-server (like paxlog dev, data under DIR,
default .paxlog/demo), appends a few events including a refused stale expectedOffset, tails the
log from offset 0 and prints the status table; then keeps the cluster up until Ctrl-C (or stops
at once with --exit).`;

const say = (line: string) => process.stdout.write(`${line}\n`);

/**
 * This CLI as a command line that works from the working directory: `node` and this package's
 * bin/paxlog.mjs, relative when it lies below the working directory, else absolute (and quoted
 * when the path needs it). `npm run paxlog --` works only inside the package.
 */
export function paxlogInvocation(): string {
  const bin = fileURLToPath(new URL('../../bin/paxlog.mjs', import.meta.url));
  const below = relative(process.cwd(), bin);
  const path = below.startsWith('..') || isAbsolute(below) ? bin : below;
  return `node ${/^[\w@%+=:,./-]+$/.test(path) ? path : `'${path.replaceAll("'", "'\\''")}'`}`;
}

/** Waits for a serving replica; returns why there will be none when a replica exited instead. */
async function waitForLeader(client: PaxlogClient, cluster: DevCluster): Promise<string | null> {
  for (;;) {
    const failure = cluster.replicaFailure();
    if (failure !== null) return failure;
    const statuses = await client.status({ waitMs: 200 }).catch(() => []);
    if (statuses.some((s) => s['serving'] === true)) return null;
  }
}

async function appendEvents(client: PaxlogClient): Promise<void> {
  const events = ['account 42 opened', 'deposited 100', 'withdrew 30'];
  say('\nappending the account\'s events, each with the offset it expects (optimistic concurrency):');
  for (const [offset, event] of events.entries()) {
    const result = await client.append(new TextEncoder().encode(event), { key: 'account.42', id: `account-42-${offset}`, expectedOffset: offset });
    say(`  append "${event}" expecting offset ${offset}: committed at offset ${result.offset}`);
  }
  try {
    await client.append(new TextEncoder().encode('withdrew 500'), { key: 'account.42', expectedOffset: 1 });
    say('  (unexpected) a stale expectedOffset was accepted');
  } catch (error) {
    if (!(error instanceof ConflictError)) throw error;
    say(`  append "withdrew 500" expecting offset 1: refused, the log has moved on (next offset ${error.offsetNext})`);
  }
  const again = await client.append(new TextEncoder().encode('deposited 100'), { key: 'account.42', id: 'account-42-1' });
  say(`  retry of "deposited 100" with its id: ${again.duplicate ? `already committed at offset ${again.offset}, not written twice` : `offset ${again.offset}`}`);
}

async function tailFromZero(client: PaxlogClient, count: number): Promise<void> {
  say('\ntail from offset 0:');
  let seen = 0;
  for await (const entry of client.entries({ from: 0 })) {
    say(`  ${String(entry.offset).padStart(4)}  ${new Date(entry.timestamp).toISOString()}  [${entry.key ?? ''}]  ${new TextDecoder().decode(entry.data)}`);
    if (++seen === count) break;
  }
}

/** `paxlog demo`: a cluster, a few appends, a tail, the status table. */
export async function demoCommand(values: Record<string, string | boolean | undefined>): Promise<number> {
  if (findNatsServer() === null) {
    process.stderr.write(`${natsServerMissingMessage}\n`);
    return 1;
  }
  const dataDir = resolve(typeof values['data'] === 'string' ? values['data'] : '.paxlog/demo');
  rmSync(dataDir, { recursive: true, force: true });
  const cluster = await DevCluster.start({ dataDir, logs: ['demo'], logLevel: 'warn' });
  const client = await PaxlogClient.connect({ servers: cluster.url, log: 'demo' });
  try {
    say(`paxlog demo: nats-server at ${cluster.url}, 3 replicas, log "demo", data under ${dataDir}`);
    say('waiting for the replicas to elect a leader (a fresh lease acceptor first waits out one lease time)...');
    const failure = await waitForLeader(client, cluster);
    if (failure !== null) {
      process.stderr.write(`paxlog demo: ${failure}\n`);
      return 1;
    }
    await appendEvents(client);
    await tailFromZero(client, 3);
    say(`\nstatus:\n${statusTable(await client.status({ waitMs: 300 }))}`);
    if (values['exit'] === true) return 0;
    say(`\nthe cluster keeps running. Try, in another terminal:`);
    say(`  ${paxlogInvocation()} tail --nats ${cluster.url} --log demo`);
    say(`  ${paxlogInvocation()} append --nats ${cluster.url} --log demo "hello"`);
    say('Ctrl-C stops everything.');
    await new Promise<void>((done) => {
      process.once('SIGINT', done);
      process.once('SIGTERM', done);
    });
    return 0;
  } finally {
    await client.close();
    await cluster.stop();
  }
}

/**
 * One process of the floor benchmark (bench/floor.ts): the message pattern and the writes of a
 * synchronous paxlog append, with nothing else. Roles:
 * - `leader`: answers `floor.append` requests. It sends an accept to both followers, writes its
 *   own vote (SQLite, WAL, synchronous=FULL), and answers once one follower has written too (a
 *   majority of three, both durable). Then it sends a commit notice to both followers and writes
 *   its commit without an fsync, as a paxlog leader does.
 * - `follower`: writes each accept (FULL) and answers it; writes each commit notice (NORMAL).
 * - `responder`: answers every request at once with no work: the request/reply ceiling.
 * Prints `ready` once subscribed; runs until SIGTERM.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import Database from 'better-sqlite3';

const [role, url, dir, name] = process.argv.slice(2);
if (role === undefined || url === undefined || dir === undefined || name === undefined) throw new Error('usage: floorWorker <role> <url> <dir> <name>');

/** One row per write, in a WAL store at FULL (read back: a reopened WAL database comes up NORMAL). */
function storeOpen(path: string): { voteWrite: (bytes: Uint8Array) => void; commitWrite: (id: number) => void } {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  if (db.pragma('synchronous', { simple: true }) !== 2) throw new Error('synchronous does not read back as FULL');
  db.exec('CREATE TABLE IF NOT EXISTS votes (id INTEGER PRIMARY KEY, body BLOB NOT NULL, chosen INTEGER NOT NULL)');
  const put = db.prepare<[Uint8Array]>('INSERT INTO votes (body, chosen) VALUES (?, 0)');
  const mark = db.prepare<[number]>('UPDATE votes SET chosen = 1 WHERE id = ?');
  const normal = db.prepare('PRAGMA synchronous = NORMAL');
  const full = db.prepare('PRAGMA synchronous = FULL');
  return {
    voteWrite: (bytes) => put.run(bytes),
    commitWrite: (id) => {
      normal.run();
      mark.run(id);
      full.run();
    },
  };
}

function idOf(bytes: Uint8Array): number {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(0);
}

function leader(nc: NatsConnection, store: ReturnType<typeof storeOpen>): void {
  const waiting = new Map<number, string>();
  let idNext = 1;
  nc.subscribe('floor.append', {
    callback: (_error, msg) => {
      if (msg.reply === undefined) return;
      const id = idNext++;
      const accept = new Uint8Array(4 + msg.data.byteLength);
      new DataView(accept.buffer).setUint32(0, id);
      accept.set(msg.data, 4);
      waiting.set(id, msg.reply);
      nc.publish('floor.accept', accept);
      // After the accepts are flushed (nats.js flushes in a microtask), as a paxlog leader does.
      queueMicrotask(() => store.voteWrite(accept));
    },
  });
  nc.subscribe('floor.accepted', {
    callback: (_error, msg) => {
      const id = idOf(msg.data);
      const reply = waiting.get(id);
      if (reply === undefined) return; // the second follower's vote
      waiting.delete(id);
      nc.publish(reply, msg.data.subarray(0, 4));
      nc.publish('floor.commit', msg.data.subarray(0, 4));
      queueMicrotask(() => store.commitWrite(id));
    },
  });
}

function follower(nc: NatsConnection, store: ReturnType<typeof storeOpen>): void {
  nc.subscribe('floor.accept', {
    callback: (_error, msg) => {
      store.voteWrite(msg.data);
      nc.publish('floor.accepted', msg.data.subarray(0, 4));
    },
  });
  nc.subscribe('floor.commit', { callback: (_error, msg) => store.commitWrite(idOf(msg.data)) });
}

const nc = await connect({ servers: url, noAsyncTraces: true });
mkdirSync(dir, { recursive: true });
if (role === 'responder') {
  nc.subscribe('floor.request', {
    callback: (_error, msg) => {
      msg.respond(msg.data.subarray(0, 8));
    },
  });
} else {
  const store = storeOpen(join(dir, `${name}.db`));
  if (role === 'leader') leader(nc, store);
  else follower(nc, store);
}
await nc.flush();
process.stdout.write('ready\n');
process.on('SIGTERM', () => {
  void nc.close().finally(() => process.exit(0));
});

/**
 * paxlog from any NATS client, without paxlog's code: only @nats-io/transport-node and the
 * subjects and headers of docs/PROTOCOL.md ("Plain NATS clients"). The same works from Go,
 * Python, Rust or the `nats` CLI.
 *
 *   npx tsx examples/plain-nats.ts nats://127.0.0.1:PORT
 */
import { connect, headers } from '@nats-io/transport-node';

const nc = await connect({ servers: process.argv[2] ?? 'nats://127.0.0.1:4222' });
const log = 'default';

// The live tail: every committed entry, per key, with its offset in a header.
const tail = nc.subscribe(`paxlog.${log}.entries.>`, {
  callback: (_error, msg) => console.log(`tail: offset ${msg.headers?.get('Paxlog-Offset')} on ${msg.subject}: ${msg.string()}`),
});

// Append: a plain request; the body is the entry, headers carry the id (idempotent retries) and key.
const h = headers();
h.set('Paxlog-Id', `order-${Date.now()}`);
h.set('Paxlog-Key', 'orders.eu');
const reply = await nc.request(`paxlog.${log}.publish`, new TextEncoder().encode('order placed'), { headers: h, timeout: 5_000 });
console.log(`append: offset ${reply.headers?.get('Paxlog-Offset')}, or error ${reply.headers?.get('Paxlog-Error-Code') || '-'}`);

// Replay: one message per entry to our inbox, then an end marker with the next offset. Any replica
// answers; Paxlog-Wait-Ms lets one that has nothing at Paxlog-From yet wait for it.
const inbox = nc.subscribe('_INBOX.example-replay');
const q = headers();
q.set('Paxlog-From', '0');
q.set('Paxlog-Limit', '100');
q.set('Paxlog-Wait-Ms', '2000');
nc.publish(`paxlog.${log}.replay`, new Uint8Array(), { headers: q, reply: '_INBOX.example-replay' });
for await (const msg of inbox) {
  if (msg.headers?.get('Paxlog-End') === 'true') {
    console.log(`replay: next offset ${msg.headers.get('Paxlog-Offset-Next')}`);
    break;
  }
  console.log(`replay: ${msg.headers?.get('Paxlog-Offset')}: ${msg.string()}`);
}
await nc.flush();
tail.unsubscribe();
await nc.close();

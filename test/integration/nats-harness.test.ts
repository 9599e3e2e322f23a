import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { decodeStatusReply, decodeStatusRequest, encodeStatusReply, encodeStatusRequest } from '../../src/transport/clientWire.js';
import { statusSubject } from '../../src/transport/subjects.js';
import { NatsServer } from '../helpers/NatsServer.js';

const bytesMax = 1 << 20;

/** Answers status requests with the msgpack client protocol, the way a replica will. */
function serveStatus(nc: NatsConnection, log: string): void {
  nc.subscribe(statusSubject(log), {
    callback: (error, msg) => {
      if (error !== null) return;
      const decoded = decodeStatusRequest(msg.data, { bytesMax });
      assert.ok(decoded.ok);
      msg.respond(encodeStatusReply({ v: 1, ok: true, status: { replica: 1, served: true } }));
    },
  });
}

async function statusRoundTrip(nc: NatsConnection, log: string): Promise<unknown> {
  const msg = await nc.request(statusSubject(log), encodeStatusRequest({ v: 1, log }), { timeout: 2_000 });
  const decoded = decodeStatusReply(msg.data, { bytesMax });
  assert.ok(decoded.ok, decoded.ok ? '' : decoded.detail);
  return decoded.reply;
}

/** Retries a request while the client reconnects; the first attempts may time out or find no responders. */
async function eventually<T>(attempt: () => Promise<T>, options: { readonly msMax: number }): Promise<T> {
  const deadline = Date.now() + options.msMax;
  for (;;) {
    try {
      return await attempt();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

describe('NatsServer test harness', () => {
  const cleanups: Array<() => Promise<unknown>> = [];
  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  it('serves request/reply, and clients reconnect after a restart on the same port', async () => {
    const server = await NatsServer.start();
    cleanups.push(() => server.stop());
    assert.match(server.url, /^nats:\/\/127\.0\.0\.1:\d+$/);
    const portFirst = server.port;

    const reconnect = { maxReconnectAttempts: -1, reconnectTimeWait: 50, reconnectJitter: 0 };
    const responder = await connect({ servers: server.url, ...reconnect });
    cleanups.push(() => responder.close());
    const requester = await connect({ servers: server.url, ...reconnect });
    cleanups.push(() => requester.close());
    serveStatus(responder, 'orders');
    await responder.flush();

    const expected = { v: 1, ok: true, status: { replica: 1, served: true } };
    assert.deepEqual(await statusRoundTrip(requester, 'orders'), expected);

    const reconnected = waitForReconnect(requester);
    await server.restart({ downMs: 200 });
    assert.equal(server.port, portFirst);
    await reconnected;
    assert.deepEqual(await eventually(() => statusRoundTrip(requester, 'orders'), { msMax: 5_000 }), expected);
    assert.equal(requester.isClosed(), false);
  });

  it('starts two servers on different free ports and stops both', async () => {
    const a = await NatsServer.start();
    const b = await NatsServer.start();
    try {
      assert.notEqual(a.port, b.port);
    } finally {
      await a.stop();
      await b.stop();
    }
    await a.stop(); // idempotent
  });

  it('forms a cluster: a request published on one server reaches a responder on another', async () => {
    const a = await NatsServer.start({ name: 'a', cluster: { name: 'paxlog-test', routes: [] } });
    cleanups.push(() => a.stop());
    assert.ok(a.clusterUrl !== null);
    const b = await NatsServer.start({ name: 'b', cluster: { name: 'paxlog-test', routes: [a.clusterUrl] } });
    cleanups.push(() => b.stop());
    const responder = await connect({ servers: b.url });
    cleanups.push(() => responder.close());
    const requester = await connect({ servers: a.url });
    cleanups.push(() => requester.close());
    serveStatus(responder, 'orders');
    await responder.flush();
    const reply = await eventually(() => statusRoundTrip(requester, 'orders'), { msMax: 5_000 });
    assert.deepEqual(reply, { v: 1, ok: true, status: { replica: 1, served: true } });
  });
});

async function waitForReconnect(nc: NatsConnection): Promise<void> {
  for await (const status of nc.status()) {
    if (status.type === 'reconnect') return;
  }
}

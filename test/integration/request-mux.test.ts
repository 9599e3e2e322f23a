import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { connect } from '@nats-io/transport-node';
import { RequestFailure, RequestMux } from '../../src/client/RequestMux.js';
import { NatsServer } from '../helpers/NatsServer.js';

describe('RequestMux: request/reply over one inbox', () => {
  const cleanups: Array<() => Promise<unknown>> = [];
  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  it('matches concurrent replies to their requests, times out the unanswered, reports no responders, fails what is in flight on close', async () => {
    const server = await NatsServer.start();
    cleanups.push(() => server.stop());
    const responder = await connect({ servers: server.url });
    cleanups.push(() => responder.close());
    const requester = await connect({ servers: server.url });
    cleanups.push(() => requester.close());
    // Echoes the body, except "silent", which it never answers; replies in reverse order of arrival.
    const held: Array<() => void> = [];
    responder.subscribe('echo', {
      callback: (_error, msg) => {
        const text = new TextDecoder().decode(msg.data);
        if (text === 'silent') return;
        held.push(() => msg.respond(msg.data));
        if (held.length === 50) for (const respond of held.splice(0).reverse()) respond();
      },
    });
    await responder.flush();
    const mux = new RequestMux(requester);
    const bodies = Array.from({ length: 50 }, (_, i) => `body-${i}`);
    const replies = await Promise.all(bodies.map((b) => mux.request('echo', new TextEncoder().encode(b), { timeoutMs: 5_000 })));
    assert.deepEqual(replies.map((m) => new TextDecoder().decode(m.data)), bodies, 'each request got its own reply');
    await assert.rejects(mux.request('echo', new TextEncoder().encode('silent'), { timeoutMs: 100 }), (error: unknown) => error instanceof RequestFailure && error.reason === 'timeout');
    await assert.rejects(mux.request('nobody.listens', new Uint8Array(1), { timeoutMs: 5_000 }), (error: unknown) => error instanceof RequestFailure && error.reason === 'no-responders');
    const pending = mux.request('echo', new TextEncoder().encode('silent'), { timeoutMs: 60_000 });
    mux.close();
    await assert.rejects(pending, (error: unknown) => error instanceof RequestFailure && error.reason === 'closed');
  });
});

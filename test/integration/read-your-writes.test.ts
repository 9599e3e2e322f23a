import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { connect, type Msg } from '@nats-io/transport-node';
import { PaxlogClient, seenReadWaitMs } from '../../src/client/PaxlogClient.js';
import type { EntryResult } from '../../src/log/types.js';
import { decodeAppendRequest, decodeReadRequest, encodeAppendReply, encodeReadReply } from '../../src/transport/clientWire.js';
import { PROTOCOL_VERSION } from '../../src/transport/wireLimits.js';
import { appendSubject, readSubject } from '../../src/transport/subjects.js';
import { NatsServer } from '../helpers/NatsServer.js';

const log = 'orders';
const bytesMax = 1 << 20;

/**
 * A stand-in replica that has not learned any commit yet: it answers an append with the results it
 * is given, and a read with an empty page, unless the read may wait (`waitMs` above 0): then, as a replica
 * that learns the commit while the read waits, with the entry at `from`.
 */
async function laggingReplica(url: string, results: EntryResult[][]): Promise<{ waits: Array<number | undefined>; close: () => Promise<void> }> {
  const nc = await connect({ servers: url });
  const waits: Array<number | undefined> = [];
  nc.subscribe(appendSubject(log), {
    callback: (_error, msg: Msg) => {
      const decoded = decodeAppendRequest(msg.data, { bytesMax });
      assert.ok(decoded.ok);
      msg.respond(encodeAppendReply({ v: PROTOCOL_VERSION, ok: true, results: results.shift()! }));
    },
  });
  nc.subscribe(readSubject(log), {
    callback: (_error, msg: Msg) => {
      const decoded = decodeReadRequest(msg.data, { bytesMax });
      assert.ok(decoded.ok);
      const { from, waitMs } = decoded.request;
      waits.push(waitMs);
      const entries = (waitMs ?? 0) === 0 ? [] : [{ offset: from, data: new Uint8Array([1]), id: `e${from}`, timestampMs: 1 }];
      msg.respond(encodeReadReply({ v: PROTOCOL_VERSION, ok: true, entries, offsetNext: from + entries.length }));
    },
  });
  await nc.flush();
  return { waits, close: () => nc.close() };
}

describe('the client reads its own writes', () => {
  const cleanups: Array<() => Promise<unknown>> = [];
  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  it('a read from below an offset it saw committed may wait at a replica that has not learned it; other reads do not wait', async () => {
    const server = await NatsServer.start();
    cleanups.push(() => server.stop());
    const replica = await laggingReplica(server.url, [[{ status: 'ok', offset: 0 }], [{ status: 'conflict', offsetNext: 7 }]]);
    cleanups.push(replica.close);
    const client = await PaxlogClient.connect({ servers: server.url, log });
    cleanups.push(() => client.close());

    assert.deepEqual((await client.read({ from: 0, limit: 10 })).entries, [], 'nothing seen yet: answered at once, empty');
    assert.deepEqual(await client.append(new Uint8Array([1]), { id: 'e0' }), { offset: 0, duplicate: false });
    const own = await client.read({ from: 0, limit: 10 });
    assert.deepEqual(own.entries.map((e) => e.offset), [0], 'its own append is read back');
    assert.deepEqual((await client.read({ from: 1, limit: 10 })).entries, [], 'past what it saw: no wait');
    assert.deepEqual((await client.read({ from: 0, limit: 10, waitMs: 0 })).entries, [], 'waitMs given: as given');
    await assert.rejects(client.append(new Uint8Array([2]), { id: 'x', expectedOffset: 3 }), /next offset is 7/);
    assert.deepEqual((await client.read({ from: 6, limit: 10 })).entries.map((e) => e.offset), [6], 'a conflict showed offset 6 committed');
    assert.deepEqual(replica.waits, [undefined, seenReadWaitMs, undefined, 0, seenReadWaitMs]);
  });
});

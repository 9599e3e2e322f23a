import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createInbox } from '@nats-io/transport-node';
import { decodeAppendReply, encodeAppendRequest } from '../../src/transport/clientWire.js';
import { appendSubject } from '../../src/transport/subjects.js';
import { PROTOCOL_VERSION } from '../../src/transport/wireLimits.js';
import { waitFor, withCluster } from '../helpers/clusterChecks.js';

const log = 'flood';
const requests = 300;
const entriesPerRequest = 4_096;

describe('overload', { concurrency: false }, () => {
  it(`a burst of ${requests} appends of ${entriesPerRequest} entries each, far beyond what the leader commits meanwhile: every request is answered once, none is lost`, async () => {
    await withCluster({ name: 'overload', logs: [log] }, async (cluster, client) => {
      await waitFor('a leader', () => client.append(new Uint8Array([1])).then(() => true));
      const nc = client.nc;
      const inbox = createInbox();
      const answers = new Map<number, string[]>();
      nc.subscribe(`${inbox}.*`, {
        callback: (_error, msg) => {
          const request = Number(msg.subject.slice(inbox.length + 1));
          // nats-server answers 503 when no replica serves the subject for a moment (an election).
          const decoded = msg.data.byteLength === 0 && msg.headers?.code === 503 ? null : decodeAppendReply(msg.data, { bytesMax: 8 << 20 });
          const code = decoded === null ? 'no-responders' : !decoded.ok ? `bad-reply:${decoded.problem}` : decoded.reply.ok ? `ok:${decoded.reply.results.length}` : decoded.reply.error.code;
          answers.set(request, [...(answers.get(request) ?? []), code]);
        },
      });
      // 32 KB each, 9.6 MB in all: the leader commits a few of these a second.
      const body = encodeAppendRequest({ v: PROTOCOL_VERSION, log, entries: Array.from({ length: entriesPerRequest }, () => ({ data: new Uint8Array(0) })) });
      for (let request = 0; request < requests; request++) {
        nc.publish(appendSubject(log), body, { reply: `${inbox}.${request}` });
        if (request % 20 === 19) await nc.flush();
      }
      await nc.flush();
      await waitFor(`answers to all ${requests} requests`, async () => answers.size === requests, 120_000);
      const codes = new Map<string, number>();
      for (const [request, replies] of answers) {
        assert.equal(replies.length, 1, `request ${request} answered ${replies.length} times: ${replies.join(', ')}`);
        const code = replies[0]!.startsWith('ok:') ? 'ok' : replies[0]!;
        codes.set(code, (codes.get(code) ?? 0) + 1);
        if (code === 'ok') assert.equal(replies[0], `ok:${entriesPerRequest}`);
      }
      for (const code of codes.keys()) assert.ok(['ok', 'overloaded', 'not-leader', 'no-responders'].includes(code), `unexpected answer ${code}: ${JSON.stringify([...codes])}`);
      assert.ok((codes.get('ok') ?? 0) >= 1, `something was committed: ${JSON.stringify([...codes])}`);
      // Still whole and still taking appends.
      assert.deepEqual(cluster.exitsUnasked, []);
      await waitFor('an append after the burst', () => client.append(new Uint8Array([2])).then(() => true));
    });
  });
});

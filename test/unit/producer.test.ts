import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Producer, producerDefaults } from '../../src/client/Producer.js';
import { ConflictError, PaxlogError, RequestError } from '../../src/client/errors.js';
import { type Entry, entryBytes, type EntryResult } from '../../src/log/types.js';
import { nodeConfigSchema } from '../../src/node/config.js';

const bytes = (text: string) => new TextEncoder().encode(text);

/** A stand-in for the append request: records each request, answers when told to. */
class FakeLeader {
  readonly requests: Array<{ entries: readonly Entry[]; answer: (results: EntryResult[]) => void; fail: (error: Error) => void }> = [];
  inflightMax = 0;
  private inflight = 0;
  private offsetNext = 0;

  readonly send = (entries: readonly Entry[]): Promise<EntryResult[]> => {
    this.inflight++;
    this.inflightMax = Math.max(this.inflightMax, this.inflight);
    return new Promise((resolve, reject) => {
      const done = () => this.inflight--;
      this.requests.push({ entries, answer: (results) => (done(), resolve(results)), fail: (error) => (done(), reject(error)) });
    });
  };

  /** Answers the oldest request: each entry committed in turn, or refused when its expectedOffset is stale. */
  answerNext(): void {
    const request = this.requests.shift();
    assert.ok(request !== undefined, 'no request to answer');
    request.answer(request.entries.map((entry) => {
      if (entry.expectedOffset !== undefined && entry.expectedOffset !== this.offsetNext) return { status: 'conflict', offsetNext: this.offsetNext };
      return { status: 'ok', offset: this.offsetNext++ };
    }));
  }
}

async function turn(): Promise<void> {
  await new Promise((resolve) => setImmediate(resolve));
}

describe('the batching producer', () => {
  it('packs appends into requests within the entry bound; each caller gets its own offset', async () => {
    const leader = new FakeLeader();
    const producer = new Producer({ send: leader.send, lingerMs: 0, batchEntriesMax: 10, inflightRequestsMax: 100 });
    const appends = Array.from({ length: 25 }, (_, i) => producer.append(bytes(`e${i}`), { id: `id-${i}` }));
    await turn();
    assert.deepEqual(leader.requests.map((r) => r.entries.length), [10, 10, 5], 'three requests for 25 appends');
    assert.deepEqual(leader.requests.flatMap((r) => r.entries.map((e) => e.id)), Array.from({ length: 25 }, (_, i) => `id-${i}`));
    while (leader.requests.length > 0) leader.answerNext();
    assert.deepEqual((await Promise.all(appends)).map((r) => r.offset), Array.from({ length: 25 }, (_, i) => i));
    await producer.close();
  });

  it("by default sends batches that a replica's default limits take as one instance", async () => {
    const replicaDefaults = { entries: nodeConfigSchema.shape.batchEntriesMax.parse(undefined), bytes: nodeConfigSchema.shape.batchBytesMax.parse(undefined) };
    assert.ok(producerDefaults.batchEntriesMax <= replicaDefaults.entries && producerDefaults.batchBytesMax <= replicaDefaults.bytes);
    const leader = new FakeLeader();
    const producer = new Producer({ send: leader.send, lingerMs: 0, batchEntriesMax: 100_000 });
    const appends = Array.from({ length: 3_000 }, (_, i) => producer.append(new Uint8Array(100), { id: `d${i}` }));
    await turn();
    const sizes = leader.requests.map((r) => r.entries.reduce((sum, e) => sum + entryBytes(e), 0));
    assert.ok(sizes.every((size) => size <= replicaDefaults.bytes), `request bytes ${sizes.join(', ')}`);
    assert.ok(sizes.some((size) => size > replicaDefaults.bytes - 200), 'the byte bound, not another, closed the batches');
    while (leader.requests.length > 0) leader.answerNext();
    assert.equal((await Promise.all(appends)).length, 3_000);
    await producer.close();
  });

  it('closes a batch at its byte bound', async () => {
    const leader = new FakeLeader();
    const producer = new Producer({ send: leader.send, lingerMs: 0, batchEntriesMax: 1_000, batchBytesMax: 250, inflightRequestsMax: 100 });
    const appends = Array.from({ length: 6 }, (_, i) => producer.append(new Uint8Array(100), { id: `b${i}` }));
    await turn();
    assert.ok(leader.requests.length >= 3, `6 appends of 100 bytes under a 250-byte bound: ${leader.requests.length} requests`);
    for (const request of leader.requests) assert.ok(request.entries.length <= 2);
    while (leader.requests.length > 0) leader.answerNext();
    await Promise.all(appends);
    await producer.close();
  });

  it('keeps at most inflightRequestsMax requests outstanding, and refuses appends beyond queuedAppendsMax', async () => {
    const leader = new FakeLeader();
    const producer = new Producer({ send: leader.send, lingerMs: 0, batchEntriesMax: 2, inflightRequestsMax: 2, queuedAppendsMax: 8 });
    const appends = Array.from({ length: 8 }, (_, i) => producer.append(bytes(`q${i}`), { id: `q${i}` }));
    await assert.rejects(producer.append(bytes('one too many')), (error: unknown) => error instanceof PaxlogError && error.code === 'overloaded');
    await turn();
    assert.equal(leader.requests.length, 2, 'two requests out, two batches waiting');
    while (leader.requests.length > 0) {
      leader.answerNext();
      await turn();
    }
    assert.equal(leader.inflightMax, 2);
    assert.equal((await Promise.all(appends)).length, 8);
    await producer.close();
  });

  it('a stale expectedOffset fails only its own append, with the current offset; a failed request fails its callers', async () => {
    const leader = new FakeLeader();
    const producer = new Producer({ send: leader.send, lingerMs: 0, batchEntriesMax: 10, inflightRequestsMax: 1 });
    const first = producer.append(bytes('a'), { expectedOffset: 0 });
    const stale = producer.append(bytes('b'), { expectedOffset: 0 });
    const free = producer.append(bytes('c'));
    await turn();
    leader.answerNext();
    assert.equal((await first).offset, 0);
    await assert.rejects(stale, (error: unknown) => error instanceof ConflictError && error.offsetNext === 1);
    assert.equal((await free).offset, 1);
    const lost = producer.append(bytes('d'));
    await turn();
    leader.requests.shift()!.fail(new PaxlogError('timeout', 'append timed out'));
    await assert.rejects(lost, (error: unknown) => error instanceof PaxlogError && error.code === 'timeout');
    await producer.close();
  });
  it('an append the append subject would refuse (bad id, key or expectedOffset) fails alone, before it joins a batch', async () => {
    const leader = new FakeLeader();
    const producer = new Producer({ send: leader.send, lingerMs: 0, batchEntriesMax: 10 });
    const good = producer.append(bytes('a'), { id: 'order 1', key: 'acct.1' });
    const refused = [
      producer.append(bytes('b'), { id: 'x\r\nPaxlog-Offset: 0' }),
      producer.append(bytes('c'), { id: ' padded' }),
      producer.append(bytes('d'), { id: '' }),
      producer.append(bytes('e'), { key: 'has space' }),
      producer.append(bytes('f'), { expectedOffset: -1 }),
    ];
    for (const append of refused) await assert.rejects(append, (error: unknown) => error instanceof RequestError && error.code === 'schema');
    await turn();
    assert.equal(leader.requests.length, 1);
    assert.deepEqual(leader.requests[0]!.entries.map((entry) => entry.id), ['order 1']);
    leader.answerNext();
    assert.equal((await good).offset, 0);
    await producer.close();
  });
});

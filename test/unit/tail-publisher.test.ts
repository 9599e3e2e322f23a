import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setImmediate as turn } from 'node:timers/promises';
import type { CommittedBatch, CommittedEntry } from '../../src/log/types.js';
import { Counters } from '../../src/node/Counters.js';
import { TailPublisher } from '../../src/node/TailPublisher.js';

function batchOf(instance: number, offsets: number[], publishTail: boolean): CommittedBatch {
  const entries: CommittedEntry[] = offsets.map((offset) => ({ offset, data: new Uint8Array([offset]), timestampMs: 0 }));
  const batch = { instance, valueId: `1.1:${instance}`, timestampMs: 0, entries, results: [], offsetNext: (offsets.at(-1) ?? 0) + 1 };
  return publishTail ? { ...batch, publishTail: true } : batch;
}

describe('TailPublisher', () => {
  it('publishes the marked batches in commit order, at most entriesPerTurnMax a turn, and counts hand-overs', async () => {
    const published: number[] = [];
    const counters = new Counters();
    const tail = new TailPublisher({ publish: (entries) => void published.push(...entries.map((entry) => entry.offset)), counters, entriesPerTurnMax: 4, queuedEntriesMax: 100 });
    tail.committed(batchOf(1, [0, 1, 2], false)); // named elsewhere: not published
    tail.committed(batchOf(2, [3, 4, 5, 6, 7], true));
    tail.committed(batchOf(3, [8, 9, 10], true));
    assert.deepEqual(published, [], 'nothing in the turn that committed them');
    assert.equal(tail.entriesQueued, 8);
    await turn();
    assert.deepEqual(published, [3, 4, 5, 6]);
    await turn();
    assert.deepEqual(published, [3, 4, 5, 6, 7, 8, 9, 10]);
    assert.equal(tail.entriesQueued, 0);
    tail.committed(batchOf(4, [11], false));
    assert.deepEqual(counters.snapshot(), { 'tail.started': 1, 'tail.stopped': 1 });
  });

  it('drops a batch beyond queuedEntriesMax whole, and counts it; stop() drops what waits', async () => {
    const published: number[] = [];
    const counters = new Counters();
    const tail = new TailPublisher({ publish: (entries) => void published.push(...entries.map((entry) => entry.offset)), counters, entriesPerTurnMax: 2, queuedEntriesMax: 5 });
    tail.committed(batchOf(1, [0, 1, 2], true));
    tail.committed(batchOf(2, [3, 4, 5], true)); // 6 > 5: dropped
    tail.committed(batchOf(3, [6, 7], true));
    await turn();
    assert.deepEqual(published, [0, 1]);
    assert.equal(counters.snapshot()['dropped.tail-behind'], 3);
    tail.stop();
    await turn();
    await turn();
    assert.deepEqual(published, [0, 1], 'nothing after stop');
    tail.committed(batchOf(4, [8], true)); // stopped: not published
    await turn();
    assert.deepEqual(published, [0, 1]);
  });
});


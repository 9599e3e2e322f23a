import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Learner } from '../../src/log/Learner.js';
import { DedupWindow } from '../../src/log/DedupWindow.js';
import { SeededRandom } from '../../src/log/random.js';
import { MemoryStateMachine } from '../../src/log/MemoryStateMachine.js';
import { learnerStateEmpty, type Entry, type Value } from '../../src/log/types.js';

const bytes = (text: string) => new TextEncoder().encode(text);
const value = (valueId: string, entries: Entry[], timestampMs = 0): Value => ({ valueId, entries, timestampMs });

describe('Learner', () => {
  it('releases strictly in instance order, holding later instances until the gap closes', () => {
    const learner = new Learner(learnerStateEmpty, { dedupIdsMax: 10 });
    learner.add(3, value('v3', [{ data: bytes('c') }]));
    learner.add(2, value('v2', [{ data: bytes('b') }]));
    assert.deepEqual(learner.release(), []);
    assert.equal(learner.committedInstance, 0);
    learner.add(1, value('v1', [{ data: bytes('a') }]));
    const released = learner.release();
    assert.deepEqual(released.map((b) => b.instance), [1, 2, 3]);
    assert.deepEqual(released.flatMap((b) => b.entries.map((e) => e.offset)), [0, 1, 2]);
    assert.equal(learner.committedInstance, 3);
  });

  it('learns a batch all or nothing and gives its entries contiguous offsets', () => {
    const learner = new Learner(learnerStateEmpty, { dedupIdsMax: 10 });
    learner.add(1, value('v1', [{ data: bytes('a') }, { data: bytes('b') }, { data: bytes('c') }]));
    const [batch] = learner.release();
    assert.deepEqual(batch?.entries.map((e) => e.offset), [0, 1, 2]);
    assert.equal(batch?.offsetNext, 3);
  });

  it('deduplicates a client id inside its window and reports the original offset', () => {
    const learner = new Learner(learnerStateEmpty, { dedupIdsMax: 2 });
    learner.add(1, value('v1', [{ id: 'a', data: bytes('a') }, { id: 'a', data: bytes('a') }]));
    learner.add(2, value('v2', [{ id: 'b', data: bytes('b') }, { id: 'a', data: bytes('a') }]));
    const results = learner.release().flatMap((b) => b.results);
    assert.deepEqual(results, [
      { status: 'ok', offset: 0 },
      { status: 'duplicate', offset: 0 },
      { status: 'ok', offset: 1 },
      { status: 'duplicate', offset: 0 },
    ]);
    learner.add(3, value('v3', [{ id: 'c', data: bytes('c') }, { id: 'a', data: bytes('a') }]));
    const [batch] = learner.release();
    assert.deepEqual(batch?.results, [{ status: 'ok', offset: 2 }, { status: 'ok', offset: 3 }], "'a' fell out of the 2-id window");
  });

  it('refuses a stale expectedOffset and names the current offset', () => {
    const learner = new Learner(learnerStateEmpty, { dedupIdsMax: 10 });
    learner.add(1, value('v1', [{ data: bytes('a'), expectedOffset: 0 }, { data: bytes('b'), expectedOffset: 0 }]));
    const [batch] = learner.release();
    assert.deepEqual(batch?.results, [{ status: 'ok', offset: 0 }, { status: 'conflict', offsetNext: 1 }]);
    assert.equal(batch?.entries.length, 1);
  });

  it('makes timestamps monotonic whatever the leaders clocks said', () => {
    const learner = new Learner(learnerStateEmpty, { dedupIdsMax: 10 });
    learner.add(1, value('v1', [{ data: bytes('a') }], 500));
    learner.add(2, value('v2', [{ data: bytes('b') }], 400));
    assert.deepEqual(learner.release().map((b) => b.timestampMs), [500, 500]);
  });

  it('crashes loudly when one instance is learned as two values', () => {
    const learner = new Learner(learnerStateEmpty, { dedupIdsMax: 10 });
    learner.add(2, value('x', []));
    assert.throws(() => learner.add(2, value('y', [])), /chosen twice/);
  });

  it('restarts from a state machine with the same offsets and dedup window', () => {
    const learner = new Learner(learnerStateEmpty, { dedupIdsMax: 10 });
    const fsm = new MemoryStateMachine({ state: learnerStateEmpty, entries: [], dedupIdsMax: 10 });
    learner.add(1, value('v1', [{ id: 'a', data: bytes('a') }, { id: 'b', data: bytes('b') }], 7));
    for (const batch of learner.release()) fsm.apply(batch);
    assert.deepEqual(fsm.learnerState(), learner.state());
    const restarted = new Learner(fsm.learnerState(), { dedupIdsMax: 10 });
    restarted.add(2, value('v2', [{ id: 'b', data: bytes('b') }, { id: 'c', data: bytes('c') }]));
    assert.deepEqual(restarted.release()[0]?.results, [{ status: 'duplicate', offset: 1 }, { status: 'ok', offset: 2 }]);
  });
});

describe('DedupWindow', () => {
  it('keeps the newest idsMax ids, evicts the oldest first, and restores to the same window', () => {
    const window = new DedupWindow(3, [['a', 0], ['b', 1]]);
    for (const [id, offset] of [['c', 2], ['d', 3], ['e', 4], ['f', 5], ['g', 6]] as const) window.add(id, offset);
    assert.deepEqual(window.entries(), [['e', 4], ['f', 5], ['g', 6]]);
    for (const id of ['a', 'b', 'c', 'd']) assert.equal(window.offsetOf(id), undefined, `${id} evicted`);
    assert.equal(window.offsetOf('f'), 5);
    assert.throws(() => new DedupWindow(3, window.entries()).add('g', 7), /added twice/);
    const restored = new DedupWindow(3, window.entries());
    restored.add('h', 7);
    window.add('h', 7);
    assert.deepEqual(restored.entries(), window.entries());
    assert.deepEqual(window.entries(), [['f', 5], ['g', 6], ['h', 7]]);
  });

  it('answers as a model (a Map and a list) over random adds, lookups and evictions, and restores the same', () => {
    for (const idsMax of [1, 2, 3, 7, 16, 50]) {
      const random = new SeededRandom(idsMax);
      const window = new DedupWindow(idsMax, []);
      const model: Array<[string, number]> = [];
      for (let step = 0; step < 3_000; step++) {
        // Few distinct ids, so lookups hit, miss, and find ids evicted a moment ago.
        const id = `id-${random.int(0, 3 * idsMax)}`;
        const expected = model.find(([held]) => held === id)?.[1];
        assert.equal(window.offsetOf(id), expected, `idsMax ${idsMax}, step ${step}: ${id}`);
        if (expected !== undefined) continue;
        window.add(id, step);
        model.push([id, step]);
        if (model.length > idsMax) model.shift();
        if (step % 97 === 0) assert.deepEqual(new DedupWindow(idsMax, window.entries()).entries(), model);
      }
      assert.deepEqual(window.entries(), model, `idsMax ${idsMax}: the window in commit order`);
      for (let n = 0; n <= 3 * idsMax; n++) assert.equal(window.offsetOf(`id-${n}`), model.find(([held]) => held === `id-${n}`)?.[1]);
    }
  });
});

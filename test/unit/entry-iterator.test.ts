import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EntryIterator } from '../../src/client/EntryIterator.js';
import type { CommittedEntry } from '../../src/log/types.js';

const entryAt = (offset: number): CommittedEntry => ({ offset, data: new Uint8Array([offset % 256]), id: `e${offset}`, timestampMs: 1_000 + offset });

/** Pages of the given sizes, from offset 0; records whether the generator was ended. */
function pagesOf(sizes: number[], options: { failAfter?: number } = {}) {
  const state = { ended: false, pagesRead: 0 };
  async function* pages(): AsyncGenerator<readonly CommittedEntry[], void, undefined> {
    let offset = 0;
    try {
      for (const size of sizes) {
        if (options.failAfter !== undefined && state.pagesRead === options.failAfter) throw new Error('read failed');
        await new Promise((resolve) => setImmediate(resolve));
        state.pagesRead++;
        yield Array.from({ length: size }, () => entryAt(offset++));
      }
    } finally {
      state.ended = true;
    }
  }
  return { pages: pages(), state };
}

describe('EntryIterator', () => {
  it('delivers every entry of every page in order, skipping empty pages, then ends', async () => {
    const { pages, state } = pagesOf([3, 0, 1, 0, 0, 5]);
    const seen: Array<[number, string | undefined, number]> = [];
    for await (const entry of new EntryIterator(pages)) seen.push([entry.offset, entry.id, entry.timestamp]);
    assert.deepEqual(seen.map(([offset]) => offset), [0, 1, 2, 3, 4, 5, 6, 7, 8]);
    assert.deepEqual(seen[4], [4, 'e4', 1_004]);
    assert.equal(state.ended, true);
  });

  it('answers calls made before earlier ones were answered in the order they were made', async () => {
    const iterator = new EntryIterator(pagesOf([2, 1, 3]).pages);
    const results = await Promise.all(Array.from({ length: 8 }, () => iterator.next()));
    assert.deepEqual(results.map((r) => (r.done === true ? 'done' : r.value.offset)), [0, 1, 2, 3, 4, 5, 'done', 'done']);
  });

  it('a break ends the page generator, reading no more pages; a failed read rejects the next call', async () => {
    const { pages, state } = pagesOf([4, 4, 4]);
    for await (const entry of new EntryIterator(pages)) if (entry.offset === 1) break;
    assert.equal(state.ended, true);
    assert.equal(state.pagesRead, 1);
    const failing = new EntryIterator(pagesOf([1, 1], { failAfter: 1 }).pages);
    assert.equal((await failing.next()).value?.offset, 0);
    await assert.rejects(failing.next(), /read failed/);
  });
});

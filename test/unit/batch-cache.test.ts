import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BatchCache, type DecodedBatch } from '../../src/storage/BatchCache.js';

/** A batch of `count` entries of 36 bytes each: 100 bytes apiece as the cache counts them. */
function batchOf(instance: number, count: number): DecodedBatch {
  const offsetFirst = instance * 10;
  const entries = Array.from({ length: count }, (_, i) => ({ offset: offsetFirst + i, data: new Uint8Array(36), timestampMs: 1 }));
  return { instance, offsetFirst, offsetNext: offsetFirst + count, entries };
}

describe('BatchCache', () => {
  it('stays within its bytes, evicting the least recently used batch first', () => {
    const cache = new BatchCache(500);
    for (const instance of [1, 2, 3]) cache.put(batchOf(instance, 1));
    assert.equal(cache.bytes, 300);
    cache.get(1);
    cache.put(batchOf(4, 3));
    assert.equal(cache.bytes, 500);
    assert.equal(cache.get(2), undefined, '2 was the least recently used');
    assert.ok(cache.get(1) !== undefined && cache.get(3) !== undefined && cache.get(4) !== undefined);
    cache.put(batchOf(5, 6));
    assert.equal(cache.get(5), undefined, 'a batch larger than the whole cache is not kept');
    assert.equal(cache.bytes, 500);
  });

  it('forgets compacted batches, and replaces a batch put again', () => {
    const cache = new BatchCache(10_000);
    for (const instance of [1, 2, 3, 4]) cache.put(batchOf(instance, 2));
    cache.put(batchOf(4, 2));
    assert.equal(cache.bytes, 800);
    cache.dropThrough(2);
    assert.deepEqual([1, 2, 3, 4].map((instance) => cache.get(instance) !== undefined), [false, false, true, true]);
    assert.equal(cache.bytes, 400);
    cache.put(batchOf(5, 1));
    cache.dropThrough(2);
    assert.equal(cache.bytes, 500, 'the same compaction point again drops nothing');
  });

  it('refuses a batch whose entries and offsets disagree', () => {
    const cache = new BatchCache(10_000);
    assert.throws(() => cache.put({ ...batchOf(1, 2), offsetNext: 13 }), /entries and offsets disagree/);
  });
});

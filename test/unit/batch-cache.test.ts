import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BatchCache, type DecodedBatch } from '../../src/storage/BatchCache.js';

/** A batch of `count` entries of 30 bytes, each with a 25-character id: 400 bytes apiece as the cache counts them (320 + 30 + 2 x 25). */
function batchOf(instance: number, count: number): DecodedBatch {
  const offsetFirst = instance * 10;
  const entries = Array.from({ length: count }, (_, i) => ({ offset: offsetFirst + i, data: new Uint8Array(30), id: `id-${offsetFirst + i}`.padEnd(25, '.'), timestampMs: 1 }));
  return { instance, offsetFirst, offsetNext: offsetFirst + count, entries };
}

describe('BatchCache', () => {
  it('stays within its bytes, evicting the least recently used batch first', () => {
    const cache = new BatchCache(2_000);
    for (const instance of [1, 2, 3]) cache.put(batchOf(instance, 1));
    assert.equal(cache.bytes, 1_200);
    cache.get(1);
    cache.put(batchOf(4, 3));
    assert.equal(cache.bytes, 2_000);
    assert.equal(cache.get(2), undefined, '2 was the least recently used');
    assert.ok(cache.get(1) !== undefined && cache.get(3) !== undefined && cache.get(4) !== undefined);
    cache.put(batchOf(5, 6));
    assert.equal(cache.get(5), undefined, 'a batch larger than the whole cache is not kept');
    assert.equal(cache.bytes, 2_000);
  });

  it('forgets compacted batches, and replaces a batch put again', () => {
    const cache = new BatchCache(40_000);
    for (const instance of [1, 2, 3, 4]) cache.put(batchOf(instance, 2));
    cache.put(batchOf(4, 2));
    assert.equal(cache.bytes, 3_200);
    cache.dropThrough(2);
    assert.deepEqual([1, 2, 3, 4].map((instance) => cache.get(instance) !== undefined), [false, false, true, true]);
    assert.equal(cache.bytes, 1_600);
    cache.put(batchOf(5, 1));
    cache.dropThrough(2);
    assert.equal(cache.bytes, 2_000, 'the same compaction point again drops nothing');
  });

  it('counts what an entry holds in memory: ids and keys at two bytes a character, data over 64 bytes in a store of its own', () => {
    const cache = new BatchCache(1 << 20);
    const entry = (data: number, id: string | undefined, key: string | undefined) => ({ offset: 0, data: new Uint8Array(data), timestampMs: 1, ...(id === undefined ? {} : { id }), ...(key === undefined ? {} : { key }) });
    const sizes = [entry(0, undefined, undefined), entry(64, undefined, undefined), entry(65, undefined, undefined), entry(0, 'i'.repeat(256), 'k'.repeat(256))].map((e, i) => {
      cache.put({ instance: i + 1, offsetFirst: 0, offsetNext: 1, entries: [{ ...e }] });
      const before = cache.bytes;
      cache.dropThrough(i + 1);
      return before - cache.bytes;
    });
    assert.deepEqual(sizes, [320, 384, 320 + 65 + 224, 320 + 1024]);
  });

  it('refuses a batch whose entries and offsets disagree', () => {
    const cache = new BatchCache(10_000);
    assert.throws(() => cache.put({ ...batchOf(1, 2), offsetNext: 13 }), /entries and offsets disagree/);
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { firstValueFrom, from, Subject, toArray } from 'rxjs';
import { batchAppends } from '../../src/node/batchAppends.js';
import { inOrder } from '../../src/stream/inOrder.js';

describe('inOrder', () => {
  it('holds later items until the gap closes, then releases them in sequence', async () => {
    const out = await firstValueFrom(from([3, 1, 4, 2, 5]).pipe(inOrder({ sequence: (n: number) => n, next: 1, heldMax: 10 }), toArray()));
    assert.deepEqual(out, [1, 2, 3, 4, 5]);
  });

  it('fails loudly on a repeated item and on a gap that outgrows its bound', async () => {
    await assert.rejects(firstValueFrom(from([1, 1]).pipe(inOrder({ sequence: (n: number) => n, next: 1, heldMax: 10 }), toArray())), /again/);
    await assert.rejects(firstValueFrom(from([2, 3, 4]).pipe(inOrder({ sequence: (n: number) => n, next: 1, heldMax: 2 }), toArray())), /held/);
  });
});

describe('batchAppends', () => {
  const bounds = { lingerMs: 1_000_000, batchEntriesMax: 5, batchBytesMax: 100, entries: (n: number) => n, bytes: (n: number) => n * 10 };

  it('closes a batch at its entry bound without splitting an item', async () => {
    const out = await firstValueFrom(from([2, 2, 2, 1, 5]).pipe(batchAppends(bounds), toArray()));
    assert.deepEqual(out, [[2, 2], [2, 1], [5]]);
  });

  it('closes a batch at its byte bound', async () => {
    const out = await firstValueFrom(from([1, 1, 1, 1]).pipe(batchAppends({ ...bounds, batchEntriesMax: 100, batchBytesMax: 25 }), toArray()));
    assert.deepEqual(out, [[1, 1], [1, 1]]);
  });

  it('sends a lone item after its linger time', async () => {
    const input = new Subject<number>();
    const batches: number[][] = [];
    input.pipe(batchAppends({ ...bounds, lingerMs: 5 })).subscribe((b) => batches.push(b));
    input.next(1);
    assert.deepEqual(batches, [], 'not before the linger time');
    await new Promise<void>((resolve) => {
      const poll = () => (batches.length > 0 ? resolve() : setTimeout(poll, 1));
      poll();
    });
    assert.deepEqual(batches, [[1]]);
    input.complete();
  });
});

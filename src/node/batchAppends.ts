import { Observable, type OperatorFunction } from 'rxjs';
import { assert } from '../log/assert.js';

export interface BatchBounds {
  /** How long the first item of a batch may wait for company; 0: until the end of this I/O turn. */
  readonly lingerMs: number;
  readonly batchEntriesMax: number;
  readonly batchBytesMax: number;
}

/**
 * Groups append requests into batches for one proposal each: a batch closes when it reaches
 * `batchEntriesMax` entries or `batchBytesMax` bytes, or `lingerMs` after its first item. An item
 * never splits; an item too big for an empty batch still goes out alone (the core refuses it).
 */
export function batchAppends<T>(options: BatchBounds & { entries: (item: T) => number; bytes: (item: T) => number }): OperatorFunction<T, T[]> {
  assert(options.lingerMs >= 0 && options.batchEntriesMax >= 1 && options.batchBytesMax >= 1, 'batch bounds');
  return (source) =>
    new Observable<T[]>((subscriber) => {
      let batch: T[] = [];
      let entries = 0;
      let bytes = 0;
      let timer: ReturnType<typeof setTimeout> | null = null;
      let immediate: ReturnType<typeof setImmediate> | null = null;
      const flush = () => {
        if (timer !== null) clearTimeout(timer);
        if (immediate !== null) clearImmediate(immediate);
        timer = null;
        immediate = null;
        if (batch.length === 0) return;
        const out = batch;
        batch = [];
        entries = 0;
        bytes = 0;
        subscriber.next(out);
      };
      const subscription = source.subscribe({
        next: (item) => {
          const itemEntries = options.entries(item);
          const itemBytes = options.bytes(item);
          if (batch.length > 0 && (entries + itemEntries > options.batchEntriesMax || bytes + itemBytes > options.batchBytesMax)) flush();
          batch.push(item);
          entries += itemEntries;
          bytes += itemBytes;
          if (entries >= options.batchEntriesMax || bytes >= options.batchBytesMax) flush();
          else if (options.lingerMs === 0) immediate ??= setImmediate(flush);
          else timer ??= setTimeout(flush, options.lingerMs);
        },
        error: (error: unknown) => subscriber.error(error),
        complete: () => {
          flush();
          subscriber.complete();
        },
      });
      return () => {
        if (timer !== null) clearTimeout(timer);
        if (immediate !== null) clearImmediate(immediate);
        subscription.unsubscribe();
      };
    });
}

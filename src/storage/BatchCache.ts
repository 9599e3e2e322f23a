import { assert } from '../log/assert.js';
import type { CommittedEntry } from '../log/types.js';

/** The committed entries of one batch: offsets offsetFirst up to offsetNext (exclusive), in order. */
export interface DecodedBatch {
  readonly instance: number;
  readonly offsetFirst: number;
  readonly offsetNext: number;
  readonly entries: readonly CommittedEntry[];
}

/**
 * What one cached entry holds in memory: its data; about 320 bytes of objects (the entry, its
 * data's Uint8Array, string headers); 224 more for data over 64 bytes, which V8 keeps in a backing
 * store of its own; and two bytes a character of id and key. Measured with 32 MiB of entries:
 * 34 MiB held with 22-character ids and 8-byte data, 31 MiB with 100-byte data, 24 MiB with
 * 256-character ids and keys. (Counting data + 64 as before, the same cache held 177-507 MiB.)
 */
function entryHeapBytes(entry: CommittedEntry): number {
  const dataBytes = entry.data.byteLength;
  return 320 + dataBytes + (dataBytes > 64 ? 224 : 0) + 2 * ((entry.id?.length ?? 0) + (entry.key?.length ?? 0));
}

/**
 * The batches written or read lately, as committed entries, so the live tail and a replay that
 * pages through a batch decode it once, not once per page. Least recently used out first, at most
 * `bytesMax` in all (a batch larger than that is never kept).
 */
export class BatchCache {
  private readonly batches = new Map<number, { batch: DecodedBatch; bytes: number }>();
  private bytesHeld = 0;
  private droppedThrough = 0;

  constructor(private readonly bytesMax: number) {
    assert(Number.isSafeInteger(bytesMax) && bytesMax >= 0, `BatchCache bytesMax ${bytesMax}`);
  }

  get(instance: number): DecodedBatch | undefined {
    const held = this.batches.get(instance);
    if (held === undefined) return undefined;
    this.batches.delete(instance);
    this.batches.set(instance, held);
    return held.batch;
  }

  put(batch: DecodedBatch): void {
    assert(batch.entries.length === batch.offsetNext - batch.offsetFirst, `cached batch ${batch.instance}: entries and offsets disagree`);
    this.drop(batch.instance);
    let bytes = 0;
    for (const entry of batch.entries) bytes += entryHeapBytes(entry);
    if (bytes > this.bytesMax) return;
    this.batches.set(batch.instance, { batch, bytes });
    this.bytesHeld += bytes;
    for (const [instance] of this.batches) {
      if (this.bytesHeld <= this.bytesMax) break;
      this.drop(instance);
    }
  }

  /**
   * Forgets every batch up to and including `instance` (compacted away). Called after every write,
   * it scans the cache only when the compaction point moved: with single-entry batches the cache
   * holds hundreds of thousands of them.
   */
  dropThrough(instance: number): void {
    if (instance <= this.droppedThrough) return;
    this.droppedThrough = instance;
    for (const held of [...this.batches.keys()]) if (held <= instance) this.drop(held);
  }

  get bytes(): number {
    return this.bytesHeld;
  }

  private drop(instance: number): void {
    const held = this.batches.get(instance);
    if (held === undefined) return;
    this.batches.delete(instance);
    this.bytesHeld -= held.bytes;
  }
}

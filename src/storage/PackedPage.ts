import { assert } from '../log/assert.js';
import type { PackedSegment } from '../log/types.js';

/** What a segment adds to a reply besides its tuples: [offsetFirst, timestampMs, count, bin header], in msgpack. */
const segmentOverheadBytes = 32;

interface OpenSegment {
  offsetFirst: number;
  timestampMs: number;
  count: number;
  bytes: Uint8Array;
  start: number;
  end: number;
}

/**
 * One packed read's page as it fills: entries in offset order, each an entry tuple's byte range in
 * a stored value, joined into one segment while they follow each other in offset and in bytes.
 * It bounds the page as readPage does: at most `entriesMax` entries and `bytesMax` bytes (tuples
 * and segment headers), always at least one entry when any is there.
 */
export class PackedPage {
  private readonly segments: OpenSegment[] = [];
  private bytesCounted = 0;
  count = 0;
  offsetLast = -1;
  /** No entry is taken any more: a bound was reached. */
  full = false;

  constructor(private readonly bounds: { entriesMax: number; bytesMax: number }) {
    assert(bounds.entriesMax >= 1 && bounds.bytesMax >= 1, 'packed page bounds');
  }

  add(entry: { offset: number; timestampMs: number; bytes: Uint8Array; start: number; end: number }): void {
    assert(!this.full && entry.offset > this.offsetLast && entry.end > entry.start, `packed page: entry at ${entry.offset} after ${this.offsetLast}`);
    const open = this.segments[this.segments.length - 1];
    const joins = open !== undefined && open.bytes === entry.bytes && open.end === entry.start && entry.offset === this.offsetLast + 1;
    const bytes = entry.end - entry.start + (joins ? 0 : segmentOverheadBytes);
    if (this.count > 0 && this.bytesCounted + bytes > this.bounds.bytesMax) {
      this.full = true;
      return;
    }
    if (joins) {
      open.count++;
      open.end = entry.end;
    } else {
      this.segments.push({ offsetFirst: entry.offset, timestampMs: entry.timestampMs, count: 1, bytes: entry.bytes, start: entry.start, end: entry.end });
    }
    this.bytesCounted += bytes;
    this.count++;
    this.offsetLast = entry.offset;
    this.full = this.count >= this.bounds.entriesMax;
  }

  /** The segments, their tuples views into the stored values (no copy). */
  packed(): PackedSegment[] {
    return this.segments.map(({ offsetFirst, timestampMs, count, bytes, start, end }) => ({ offsetFirst, timestampMs, count, tuples: bytes.subarray(start, end) }));
  }
}

import { crc32 } from 'node:zlib';
import { CorruptionError } from './CorruptionError.js';

/** The columns of one instance record that its row checksum covers (the value by its own CRC). */
export interface RecordColumns {
  readonly instance: number;
  readonly round: number;
  readonly replica: number;
  readonly incarnation: number;
  readonly chosen: boolean;
  readonly valueId: string;
  readonly valueChecksum: number;
}

/**
 * CRC32 over a record's row. It covers the value through the value's own CRC, so a new ballot or
 * chosen mark for the same value rewrites the row's head without rewriting (or reading) the value.
 * A ballot's incarnation is covered when it is not 0, so rows written before incarnations existed
 * (schema 3, where every ballot's is 0) verify as they were written.
 */
export function recordChecksum(record: RecordColumns): number {
  const ballot = record.incarnation === 0 ? `${record.round}|${record.replica}` : `${record.round}|${record.replica}.${record.incarnation}`;
  return crc32(
    `r1|${record.instance}|${ballot}|${record.chosen ? 1 : 0}|` +
      `${record.valueChecksum}|${record.valueId.length}|${record.valueId}`,
  );
}

/** The columns of one batches row that its checksum covers. */
export interface BatchColumns {
  readonly instance: number;
  readonly offsetFirst: number;
  readonly offsetNext: number;
  readonly bytesBefore: number;
  readonly timestampMs: number;
  /** The positions in the value of the entries that got no offset, or null when every one did. */
  readonly skipped: Uint8Array | null;
}

/** CRC32 over a batches row, its skipped positions included (-1 when there are none). */
export function batchChecksum(batch: BatchColumns): number {
  const skipped = batch.skipped === null ? -1 : crc32(batch.skipped);
  return crc32(`b2|${batch.instance}|${batch.offsetFirst}|${batch.offsetNext}|${batch.bytesBefore}|${batch.timestampMs}|${skipped}`);
}

/** CRC32 over a dedup_kept row. */
export function dedupChecksum(options: { offset: number; id: string }): number {
  return crc32(`d1|${options.offset}|${options.id.length}|${options.id}`);
}

/** CRC32 over a meta row, key included, so a value moved to another key is caught too. */
export function metaChecksum(options: { key: string; value: number }): number {
  return crc32(`m1|${options.key}|${options.value}`);
}

export function blobChecksum(bytes: Uint8Array): number {
  return crc32(bytes);
}

/** Throws CorruptionError naming the row when the stored checksum differs from the computed one. */
export function checksumVerify(options: { table: string; key: string; stored: number; computed: number }): void {
  if (options.stored === options.computed) return;
  throw new CorruptionError({
    table: options.table,
    key: options.key,
    detail: `checksum mismatch (stored ${options.stored}, computed ${options.computed})`,
  });
}

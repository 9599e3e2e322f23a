import { crc32 } from 'node:zlib';
import { CorruptionError } from './CorruptionError.js';

/** The columns of one committed entry that its checksum covers. */
export interface EntryColumns {
  readonly offset: number;
  readonly instance: number;
  readonly id: string | null;
  readonly key: string | null;
  readonly timestampMs: number;
  readonly data: Uint8Array;
}

/**
 * CRC32 over every column of an entry. The header gives each string's length (-1 when absent)
 * before the strings themselves, so no two different rows hash the same header text.
 */
export function entryChecksum(entry: EntryColumns): number {
  const idLength = entry.id === null ? -1 : entry.id.length;
  const keyLength = entry.key === null ? -1 : entry.key.length;
  const header =
    `e1|${entry.offset}|${entry.instance}|${entry.timestampMs}|${idLength}|${keyLength}|` +
    `${entry.id ?? ''}${entry.key ?? ''}`;
  return crc32(entry.data, crc32(header));
}

/** The columns of one instance record that its row checksum covers (the value by its own CRC). */
export interface RecordColumns {
  readonly instance: number;
  readonly round: number;
  readonly replica: number;
  readonly chosen: boolean;
  readonly valueId: string;
  readonly valueChecksum: number;
}

/**
 * CRC32 over a record's row. It covers the value through the value's own CRC, so a new ballot or
 * chosen mark for the same value rewrites the row's head without rewriting (or reading) the value.
 */
export function recordChecksum(record: RecordColumns): number {
  return crc32(
    `r1|${record.instance}|${record.round}|${record.replica}|${record.chosen ? 1 : 0}|` +
      `${record.valueChecksum}|${record.valueId.length}|${record.valueId}`,
  );
}

/** CRC32 over a batches row. */
export function batchChecksum(batch: { instance: number; offsetFirst: number; offsetNext: number; bytesBefore: number; timestampMs: number }): number {
  return crc32(`b1|${batch.instance}|${batch.offsetFirst}|${batch.offsetNext}|${batch.bytesBefore}|${batch.timestampMs}`);
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

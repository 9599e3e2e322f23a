import { assert } from '../log/assert.js';
import type { Value } from '../log/types.js';
import { arrayHeaderBytes, binHeaderBytes, ByteWriter, countable, intBytes, optionalStringBytes } from '../transport/msgpackBytes.js';

/**
 * The stored form of a value (valueCodec.ts), written byte by byte: the same bytes as
 * `new Encoder().encode([format, timestampMs, [[data, id | null, key | null, expectedOffset | null], ...]])`
 * from @msgpack/msgpack (a unit test compares them), for a third of its CPU. Every replica encodes
 * every value it accepts, so this runs once per entry on each. Null when a number is not a
 * non-negative safe integer (never, for a value that passed the wire's checks): the caller then
 * uses the library.
 */
export function valueBytes(value: Value, format: number): Uint8Array | null {
  if (!countable(format) || !countable(value.timestampMs)) return null;
  let size = 1 + intBytes(format) + intBytes(value.timestampMs) + arrayHeaderBytes(value.entries.length);
  for (const entry of value.entries) {
    if (entry.expectedOffset !== undefined && !countable(entry.expectedOffset)) return null;
    size += 1 + binHeaderBytes(entry.data.byteLength) + entry.data.byteLength;
    size += optionalStringBytes(entry.id) + optionalStringBytes(entry.key);
    size += entry.expectedOffset === undefined ? 1 : intBytes(entry.expectedOffset);
  }
  const writer = new ByteWriter(size);
  writer.byte(0x93);
  writer.int(format);
  writer.int(value.timestampMs);
  writer.arrayHeader(value.entries.length);
  for (const entry of value.entries) {
    writer.byte(0x94);
    writer.bin(entry.data);
    writer.optionalString(entry.id);
    writer.optionalString(entry.key);
    if (entry.expectedOffset === undefined) writer.byte(0xc0);
    else writer.int(entry.expectedOffset);
  }
  assert(writer.at === size, `value ${value.valueId}: ${writer.at} bytes written, ${size} counted`);
  return new Uint8Array(writer.bytes.buffer, writer.bytes.byteOffset, size);
}

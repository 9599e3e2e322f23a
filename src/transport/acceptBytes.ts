/**
 * An accept message in msgpack, written byte by byte. A leader sends every entry it commits in an
 * accept, and @msgpack/msgpack spent 15% of a leader's CPU under the producer's load writing them:
 * a map per entry, its field names encoded again each time. These are the bytes the library writes
 * for the same message (fields in the order the core makes them: a unit test compares the two), and
 * any msgpack decoder reads them as it reads the library's.
 */
import { assert } from '../log/assert.js';
import type { AcceptMessage } from '../log/messages.js';
import type { Entry } from '../log/types.js';
import { binHeaderBytes, arrayHeaderBytes, ByteWriter, countable, intBytes, mapHeaderBytes, optionalStringBytes, stringEncoded } from './msgpackBytes.js';

const names = {
  type: stringEncoded('type'),
  accept: stringEncoded('accept'),
  from: stringEncoded('from'),
  ballot: stringEncoded('ballot'),
  round: stringEncoded('round'),
  replica: stringEncoded('replica'),
  instance: stringEncoded('instance'),
  value: stringEncoded('value'),
  valueId: stringEncoded('valueId'),
  entries: stringEncoded('entries'),
  timestampMs: stringEncoded('timestampMs'),
  data: stringEncoded('data'),
  id: stringEncoded('id'),
  key: stringEncoded('key'),
  expectedOffset: stringEncoded('expectedOffset'),
};

/** The message's bytes; null when a number is not a non-negative safe integer (the caller then uses the library). */
export function acceptBytes(message: AcceptMessage): Uint8Array | null {
  const { from, ballot, instance, value } = message;
  if (![from, ballot.round, ballot.replica, instance, value.timestampMs].every(countable)) return null;
  let size = 1 + names.type.length + names.accept.length + names.from.length + intBytes(from);
  size += names.ballot.length + 1 + names.round.length + intBytes(ballot.round) + names.replica.length + intBytes(ballot.replica);
  size += names.instance.length + intBytes(instance) + names.value.length + 1 + names.valueId.length + optionalStringBytes(value.valueId);
  size += names.entries.length + arrayHeaderBytes(value.entries.length) + names.timestampMs.length + intBytes(value.timestampMs);
  for (const entry of value.entries) {
    const entrySize = entryBytesCounted(entry);
    if (entrySize < 0) return null;
    size += entrySize;
  }
  const writer = new ByteWriter(size);
  writer.mapHeader(5);
  writer.raw(names.type);
  writer.raw(names.accept);
  intField(writer, names.from, from);
  writer.raw(names.ballot);
  writer.mapHeader(2);
  intField(writer, names.round, ballot.round);
  intField(writer, names.replica, ballot.replica);
  intField(writer, names.instance, instance);
  writer.raw(names.value);
  writer.mapHeader(3);
  writer.raw(names.valueId);
  writer.optionalString(value.valueId);
  writer.raw(names.entries);
  writer.arrayHeader(value.entries.length);
  for (const entry of value.entries) entryWrite(writer, entry);
  intField(writer, names.timestampMs, value.timestampMs);
  assert(writer.at === size, `accept ${instance}: ${writer.at} bytes written, ${size} counted`);
  return new Uint8Array(writer.bytes.buffer, writer.bytes.byteOffset, size);
}

/** An entry's bytes as a map of its present fields; -1 when its expected offset is not countable. */
function entryBytesCounted(entry: Entry): number {
  const fields = 1 + (entry.id === undefined ? 0 : 1) + (entry.key === undefined ? 0 : 1) + (entry.expectedOffset === undefined ? 0 : 1);
  let size = mapHeaderBytes(fields) + names.data.length + binHeaderBytes(entry.data.byteLength) + entry.data.byteLength;
  if (entry.id !== undefined) size += names.id.length + optionalStringBytes(entry.id);
  if (entry.key !== undefined) size += names.key.length + optionalStringBytes(entry.key);
  if (entry.expectedOffset !== undefined) {
    if (!countable(entry.expectedOffset)) return -1;
    size += names.expectedOffset.length + intBytes(entry.expectedOffset);
  }
  return size;
}

function entryWrite(writer: ByteWriter, entry: Entry): void {
  writer.mapHeader(1 + (entry.id === undefined ? 0 : 1) + (entry.key === undefined ? 0 : 1) + (entry.expectedOffset === undefined ? 0 : 1));
  writer.raw(names.data);
  writer.bin(entry.data);
  if (entry.id !== undefined) {
    writer.raw(names.id);
    writer.optionalString(entry.id);
  }
  if (entry.key !== undefined) {
    writer.raw(names.key);
    writer.optionalString(entry.key);
  }
  if (entry.expectedOffset !== undefined) intField(writer, names.expectedOffset, entry.expectedOffset);
}

function intField(writer: ByteWriter, name: Uint8Array, value: number): void {
  writer.raw(name);
  writer.int(value);
}

/**
 * A successful append reply in msgpack, written byte by byte: `{ v, ok: true, results }` with one
 * `{ status, offset }` (or `{ status, offsetNext }`) map per entry, the bytes @msgpack/msgpack
 * writes for it (a unit test compares the two). A producer's request of 1,000 entries gets 1,000
 * results, and the library spent more on their field names than the leader spent on the rest of
 * the answer.
 */
import { assert } from '../log/assert.js';
import type { EntryResult } from '../log/types.js';
import { arrayHeaderBytes, ByteWriter, countable, intBytes, stringEncoded } from './msgpackBytes.js';
import { PROTOCOL_VERSION } from './wireLimits.js';

const names = {
  v: stringEncoded('v'),
  ok: stringEncoded('ok'),
  results: stringEncoded('results'),
  status: stringEncoded('status'),
};
/** Each result's bytes up to its offset: a 2-field map header, `status`, its value, the offset's name. */
const resultHeads = {
  ok: resultHead('ok', 'offset'),
  duplicate: resultHead('duplicate', 'offset'),
  conflict: resultHead('conflict', 'offsetNext'),
};

function resultHead(status: string, offsetName: string): Uint8Array {
  const parts = [Uint8Array.of(0x82), names.status, stringEncoded(status), stringEncoded(offsetName)];
  const head = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let at = 0;
  for (const part of parts) {
    head.set(part, at);
    at += part.length;
  }
  return head;
}
/** msgpack `true`. */
const trueByte = 0xc3;

/** The reply's bytes; null when an offset is not a non-negative safe integer (the caller then uses the library). */
export function appendReplyBytes(results: readonly EntryResult[]): Uint8Array | null {
  let size = 1 + names.v.length + intBytes(PROTOCOL_VERSION) + names.ok.length + 1 + names.results.length + arrayHeaderBytes(results.length);
  for (const result of results) {
    const offset = result.status === 'conflict' ? result.offsetNext : result.offset;
    if (!countable(offset)) return null;
    size += resultHeads[result.status].length + intBytes(offset);
  }
  const writer = new ByteWriter(size);
  writer.mapHeader(3);
  writer.raw(names.v);
  writer.int(PROTOCOL_VERSION);
  writer.raw(names.ok);
  writer.byte(trueByte);
  writer.raw(names.results);
  writer.arrayHeader(results.length);
  for (const result of results) {
    writer.raw(resultHeads[result.status]);
    writer.int(result.status === 'conflict' ? result.offsetNext : result.offset);
  }
  assert(writer.at === size, `append reply: ${writer.at} bytes written, ${size} counted`);
  return writer.bytes.subarray(0, size);
}

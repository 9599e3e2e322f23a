/**
 * Entries in their stored form, read without a msgpack library: each entry of a stored value
 * (src/storage/valueCodec.ts) is the msgpack array [data: bin, id: str | nil, key: str | nil,
 * expectedOffset: uint | nil]. A replica serves a packed read (docs/PROTOCOL.md, "Packed reads")
 * by copying these tuples out of the stored value as they are, and the client turns them into
 * committed entries here: a replay then costs no decode and re-encode of every entry on the
 * replica, nor a map of field names per entry on the wire.
 */
import { type CommittedEntry, committedEntryMake, type PackedSegment } from '../log/types.js';
import { wireLimits } from './wireLimits.js';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The first byte of a 4-element msgpack array: every tuple starts with it. */
const tupleHeader = 0x94;

/**
 * The end of the msgpack item at `at`, for the forms a tuple holds (nil, non-negative integer,
 * bin, str); -1 for any other form, or one that runs past `end`.
 */
export function itemEnd(bytes: Uint8Array, at: number, end: number): number {
  if (at >= end) return -1;
  const head = bytes[at]!;
  let itemEndAt: number;
  if (head === 0xc0 || head < 0x80) itemEndAt = at + 1;
  else if (head >= 0xa0 && head <= 0xbf) itemEndAt = at + 1 + (head & 0x1f);
  else if (head === 0xcc) itemEndAt = at + 2;
  else if (head === 0xcd) itemEndAt = at + 3;
  else if (head === 0xce) itemEndAt = at + 5;
  else if (head === 0xcf) itemEndAt = at + 9;
  else if (head === 0xc4 || head === 0xd9) itemEndAt = at + 2 > end ? -1 : at + 2 + bytes[at + 1]!;
  else if (head === 0xc5 || head === 0xda) itemEndAt = at + 3 > end ? -1 : at + 3 + ((bytes[at + 1]! << 8) | bytes[at + 2]!);
  else if (head === 0xc6 || head === 0xdb) itemEndAt = at + 5 > end ? -1 : at + 5 + u32(bytes, at + 1);
  else return -1;
  return itemEndAt > end ? -1 : itemEndAt;
}

function u32(bytes: Uint8Array, at: number): number {
  return bytes[at]! * 0x1000000 + ((bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!);
}

function isBin(head: number): boolean {
  return head === 0xc4 || head === 0xc5 || head === 0xc6;
}

function isStrOrNil(head: number): boolean {
  return head === 0xc0 || (head >= 0xa0 && head <= 0xbf) || head === 0xd9 || head === 0xda || head === 0xdb;
}

function isUintOrNil(head: number): boolean {
  return head === 0xc0 || head < 0x80 || head === 0xcc || head === 0xcd || head === 0xce || head === 0xcf;
}

/** The end of the entry tuple at `at`, its fields' forms checked; -1 when it is not one. */
export function tupleEnd(bytes: Uint8Array, at: number, end: number): number {
  if (at >= end || bytes[at] !== tupleHeader) return -1;
  const dataAt = at + 1;
  if (dataAt >= end || !isBin(bytes[dataAt]!)) return -1;
  const idAt = itemEnd(bytes, dataAt, end);
  if (idAt < 0 || idAt >= end || !isStrOrNil(bytes[idAt]!)) return -1;
  const keyAt = itemEnd(bytes, idAt, end);
  if (keyAt < 0 || keyAt >= end || !isStrOrNil(bytes[keyAt]!)) return -1;
  const expectedAt = itemEnd(bytes, keyAt, end);
  if (expectedAt < 0 || expectedAt >= end || !isUintOrNil(bytes[expectedAt]!)) return -1;
  return itemEnd(bytes, expectedAt, end);
}

/** Where the payload of the bin or str item at `at` starts (its header skipped). */
function payloadAt(bytes: Uint8Array, at: number): number {
  const head = bytes[at]!;
  if (head >= 0xa0 && head <= 0xbf) return at + 1;
  if (head === 0xc4 || head === 0xd9) return at + 2;
  if (head === 0xc5 || head === 0xda) return at + 3;
  return at + 5;
}

/** The str or nil item at `at` (a tuple's id or key), as a string or null. */
function optionalString(bytes: Uint8Array, at: number, itemEndAt: number): string | null {
  if (bytes[at] === 0xc0) return null;
  const from = payloadAt(bytes, at);
  if (itemEndAt - from <= 32) {
    // Short ASCII (most ids and keys): no decoder call.
    let text = '';
    for (let i = from; i < itemEndAt; i++) {
      const unit = bytes[i]!;
      if (unit >= 0x80) return utf8.decode(bytes.subarray(from, itemEndAt));
      text += String.fromCharCode(unit);
    }
    return text;
  }
  return utf8.decode(bytes.subarray(from, itemEndAt));
}

/** The key of the entry tuple at `at` (checked by tupleEnd first), or null. */
export function tupleKey(bytes: Uint8Array, at: number, end: number): string | null {
  const idAt = itemEnd(bytes, at + 1, end);
  const keyAt = itemEnd(bytes, idAt, end);
  return optionalString(bytes, keyAt, itemEnd(bytes, keyAt, end));
}

/** An entry tuple's fields, checked: what tupleFields reads, or the problem. */
export interface TupleFields {
  readonly data: Uint8Array;
  readonly id: string | null;
  readonly key: string | null;
  readonly expectedOffset: number | null;
  /** Where the tuple ends. */
  readonly end: number;
}

/**
 * The entry tuple at `at`: its data (a view into `bytes`), id, key and expected offset, checked as
 * entryProblem checks an entry (ids and keys of at most 256 characters, in UTF-8; an expected
 * offset a non-negative safe integer); a string names the problem.
 */
export function tupleFields(bytes: Uint8Array, at: number, end: number): TupleFields | string {
  const tupleEndAt = tupleEnd(bytes, at, end);
  if (tupleEndAt < 0) return 'an entry is not [data: bin, id: str | nil, key: str | nil, expectedOffset: uint | nil]';
  const idAt = itemEnd(bytes, at + 1, end);
  const keyAt = itemEnd(bytes, idAt, end);
  const expectedAt = itemEnd(bytes, keyAt, end);
  let id: string | null;
  let key: string | null;
  try {
    id = optionalString(bytes, idAt, keyAt);
    key = optionalString(bytes, keyAt, expectedAt);
  } catch {
    return 'an entry has an id or key that is not UTF-8';
  }
  if (id !== null && id.length > wireLimits.idCharsMax) return `an entry id must be at most ${wireLimits.idCharsMax} characters`;
  if (key !== null && key.length > wireLimits.keyCharsMax) return `an entry key must be at most ${wireLimits.keyCharsMax} characters`;
  const expectedOffset = bytes[expectedAt] === 0xc0 ? null : uintAt(bytes, expectedAt);
  if (expectedOffset === null && bytes[expectedAt] !== 0xc0) return 'an entry expectedOffset must be a safe integer';
  return { data: bytes.subarray(payloadAt(bytes, at + 1), idAt), id, key, expectedOffset, end: tupleEndAt };
}

/**
 * The msgpack uint at `at` (positive fixint or uint 8 to 64) as a number, if it is a safe integer;
 * null for any other form, a uint past `bytes`, or one of 2^53 or more.
 */
export function uintAt(bytes: Uint8Array, at: number): number | null {
  const head = bytes[at];
  if (head === undefined) return null;
  if (head < 0x80) return head;
  const width = head === 0xcc ? 1 : head === 0xcd ? 2 : head === 0xce ? 4 : head === 0xcf ? 8 : 0;
  if (width === 0 || at + 1 + width > bytes.byteLength) return null;
  let value = 0;
  for (let i = 1; i <= width; i++) value = value * 256 + bytes[at + i]!;
  return Number.isSafeInteger(value) ? value : null;
}

/**
 * A packed segment's `count` entry tuples as committed entries at offsets from `offsetFirst`, all
 * with `timestampMs`; entry data are views into `tuples`. A problem (a tuple that is not one, bytes
 * left over or missing, an id or key over its bound or not UTF-8) is named.
 */
export function tuplesDecode(segment: PackedSegment): CommittedEntry[] | string {
  const { tuples: bytes, count, timestampMs } = segment;
  const end = bytes.byteLength;
  const entries: CommittedEntry[] = [];
  let at = 0;
  for (let position = 0; position < count; position++) {
    const fields = tupleFields(bytes, at, end);
    if (typeof fields === 'string') return `entry ${position} of a packed segment: ${fields}`;
    entries.push(committedEntryMake({ offset: segment.offsetFirst + position, data: fields.data, id: fields.id, key: fields.key, timestampMs }));
    at = fields.end;
  }
  if (at !== end) return `a packed segment holds ${end - at} bytes past its ${count} entries`;
  return entries;
}

import { Decoder, Encoder } from '@msgpack/msgpack';
import { type CommittedEntry, committedEntryMake, type Entry, type Value } from '../log/types.js';
import { tupleEnd, tupleFields, uintAt } from '../transport/entryTuples.js';
import { wireLimits } from '../transport/wireLimits.js';
import { CorruptionError } from './CorruptionError.js';
import { valueBytes } from './valueBytes.js';

/**
 * The stored form of a Value's payload (its valueId lives in its own column): one msgpack array,
 * positional and compact,
 *   [formatVersion, timestampMs, entries]
 * with each entry as [data, id | null, key | null, expectedOffset | null]. An absent optional field
 * is null on disk and absent again after decoding, so a decoded value deep-equals the original.
 */
const valueFormat = 1;
const encoder = new Encoder();
const decoder = new Decoder();

type EntryTuple = [Uint8Array, string | null, string | null, number | null];

/**
 * Each value's stored form, made once: a leader writes it to its own store and sends it in its
 * accepts (src/transport/wire.ts), and a follower keeps the bytes it received (valueFromStored).
 * Values are immutable, so the bytes stay right for as long as the value lives.
 */
const storedForms = new WeakMap<Value, Uint8Array>();

export function valueEncode(value: Value): Uint8Array {
  const known = storedForms.get(value);
  if (known !== undefined) return known;
  const bytes = valueBytes(value, valueFormat) ?? valueEncodeByLibrary(value);
  storedForms.set(value, bytes);
  return bytes;
}

/**
 * A value from its stored form as a peer sent it, every entry checked as entryProblem checks one
 * (a string names the problem), without a msgpack library: the form's layout is fixed. The bytes
 * become the value's stored form (valueEncode gives them back), so a follower writes what it got.
 * Entry data are views into `bytes`.
 */
export function valueFromStored(options: { bytes: Uint8Array; valueId: string }): Value | string {
  const { bytes, valueId } = options;
  let starts: number[];
  try {
    starts = valueTupleStarts({ bytes, table: 'accept', key: valueId });
  } catch (error) {
    return (error as Error).message;
  }
  const timestampMs = uintAt(bytes, 2);
  if (timestampMs === null) return 'a value timestamp must be a non-negative safe integer';
  if (starts.length - 1 > wireLimits.entriesMax) return `a value holds at most ${wireLimits.entriesMax} entries`;
  const entries: Entry[] = [];
  for (let position = 0; position + 1 < starts.length; position++) {
    const fields = tupleFields(bytes, starts[position]!, starts[position + 1]!);
    if (typeof fields === 'string') return `entry ${position}: ${fields}`;
    const entry: { -readonly [K in keyof Entry]: Entry[K] } = { data: fields.data };
    if (fields.id !== null) entry.id = fields.id;
    if (fields.key !== null) entry.key = fields.key;
    if (fields.expectedOffset !== null) entry.expectedOffset = fields.expectedOffset;
    entries.push(entry);
  }
  const value: Value = { valueId, entries, timestampMs };
  storedForms.set(value, bytes);
  return value;
}

/** valueEncode through @msgpack/msgpack: what valueBytes must equal, and its fallback. */
export function valueEncodeByLibrary(value: Value): Uint8Array {
  const entries: EntryTuple[] = value.entries.map((entry) => [
    entry.data,
    entry.id ?? null,
    entry.key ?? null,
    entry.expectedOffset ?? null,
  ]);
  return encoder.encode([valueFormat, value.timestampMs, entries]);
}

type Fail = (detail: string) => never;

/**
 * Where each entry tuple of a stored value starts, without decoding one: `starts[p]` is the first
 * byte of position p, and `starts[count]` the end of the last (a packed read copies tuples out as
 * they are). A shape that cannot have been written throws, as valueDecode does.
 */
export function valueTupleStarts(options: { bytes: Uint8Array; table: string; key: string }): number[] {
  const { bytes } = options;
  const fail = (detail: string): never => {
    throw new CorruptionError({ table: options.table, key: options.key, detail });
  };
  const end = bytes.byteLength;
  if (end < 1 || bytes[0] !== 0x93) return fail('value is not a 3-element array');
  if (bytes[1] !== valueFormat) return fail(`unknown value format ${String(bytes[1])}`);
  let at = numberEnd(bytes, 2);
  if (at < 0 || at >= end) return fail('bad value timestamp');
  let count: number;
  const head = bytes[at]!;
  if (head >= 0x90 && head <= 0x9f) [count, at] = [head & 0x0f, at + 1];
  else if (head === 0xdc && at + 3 <= end) [count, at] = [(bytes[at + 1]! << 8) | bytes[at + 2]!, at + 3];
  else if (head === 0xdd && at + 5 <= end) [count, at] = [((bytes[at + 1]! << 24) >>> 0) + ((bytes[at + 2]! << 16) | (bytes[at + 3]! << 8) | bytes[at + 4]!), at + 5];
  else return fail('value entries are not an array');
  // Every tuple takes 6 bytes at least (its header, an empty bin and three nils): a count the bytes
  // cannot hold is refused before anything is allocated for it.
  if (count > (end - at) / tupleBytesMin) return fail(`${count} entries in ${end - at} bytes`);
  const starts = new Array<number>(count + 1);
  for (let position = 0; position < count; position++) {
    starts[position] = at;
    at = tupleEnd(bytes, at, end);
    if (at < 0) return fail(`entry ${position} is not a 4-tuple of data, id, key and expectedOffset`);
  }
  if (at !== end) return fail(`${end - at} bytes past the value's last entry`);
  starts[count] = at;
  return starts;
}

/** The fewest bytes an entry tuple takes: [bin 0, nil, nil, nil]. */
const tupleBytesMin = 6;

/** The bytes after the marker of msgpack's uint, int and float forms. */
const numberWidths = new Map([[0xcc, 1], [0xcd, 2], [0xce, 4], [0xcf, 8], [0xd0, 1], [0xd1, 2], [0xd2, 4], [0xd3, 8], [0xca, 4], [0xcb, 8]]);

/** The end of the msgpack number at `at` (any integer or float form the library writes); -1 if none. */
function numberEnd(bytes: Uint8Array, at: number): number {
  const head = bytes[at];
  if (head === undefined) return -1;
  if (head < 0x80 || head >= 0xe0) return at + 1;
  const width = numberWidths.get(head);
  return width === undefined ? -1 : at + 1 + width;
}

/** Decodes bytes whose checksum already matched; a shape that cannot have been written throws. */
export function valueDecode(options: { bytes: Uint8Array; valueId: string; table: string; key: string }): Value {
  const { timestampMs, tuples, fail } = valueTuples(options);
  return { valueId: options.valueId, timestampMs, entries: tuples.map((tuple) => entryDecode(tuple, fail)) };
}

/**
 * The committed entries of a stored value without building its Entry objects first (replay reads
 * millions): every entry but the `skipped` positions, at offsets from `offsetFirst`.
 */
export function committedEntriesDecode(options: {
  bytes: Uint8Array;
  table: string;
  key: string;
  offsetFirst: number;
  timestampMs: number;
  skipped: ReadonlySet<number>;
}): CommittedEntry[] {
  const { tuples, fail } = valueTuples(options);
  const entries: CommittedEntry[] = [];
  let offset = options.offsetFirst;
  for (let position = 0; position < tuples.length; position++) {
    if (options.skipped.has(position)) continue;
    const [data, id, key] = entryFields(tuples[position], fail);
    entries.push(committedEntryMake({ offset: offset++, data, id, key, timestampMs: options.timestampMs }));
  }
  return entries;
}

function valueTuples(options: { bytes: Uint8Array; table: string; key: string }): { timestampMs: number; tuples: unknown[]; fail: Fail } {
  const fail: Fail = (detail) => {
    throw new CorruptionError({ table: options.table, key: options.key, detail });
  };
  let decoded: unknown;
  try {
    decoded = decoder.decode(options.bytes);
  } catch (error) {
    return fail(`undecodable value: ${(error as Error).message}`);
  }
  if (!Array.isArray(decoded) || decoded.length !== 3) return fail('value is not a 3-element array');
  const [format, timestampMs, tuples] = decoded as unknown[];
  if (format !== valueFormat) return fail(`unknown value format ${String(format)}`);
  if (typeof timestampMs !== 'number' || !Array.isArray(tuples)) return fail('bad value timestamp or entries');
  return { timestampMs, tuples, fail };
}

/** An entry tuple's fields, checked: data, id or null, key or null, expectedOffset or null. */
function entryFields(tuple: unknown, fail: Fail): [Uint8Array, string | null, string | null, number | null] {
  if (!Array.isArray(tuple) || tuple.length !== 4) return fail('entry is not a 4-tuple');
  const [data, id, key, expectedOffset] = tuple as unknown[];
  if (!(data instanceof Uint8Array)) return fail('entry data is not bytes');
  if (typeof id !== 'string' && id !== null) return fail('entry id is not a string');
  if (typeof key !== 'string' && key !== null) return fail('entry key is not a string');
  if (typeof expectedOffset !== 'number' && expectedOffset !== null) return fail('entry expectedOffset is not a number');
  return [data, id, key, expectedOffset];
}

function entryDecode(tuple: unknown, fail: Fail): Entry {
  const [data, id, key, expectedOffset] = entryFields(tuple, fail);
  const entry: { -readonly [K in keyof Entry]: Entry[K] } = { data };
  if (id !== null) entry.id = id;
  if (key !== null) entry.key = key;
  if (expectedOffset !== null) entry.expectedOffset = expectedOffset;
  return entry;
}

import { Decoder, Encoder } from '@msgpack/msgpack';
import type { Entry, Value } from '../log/types.js';
import { CorruptionError } from './CorruptionError.js';

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

export function valueEncode(value: Value): Uint8Array {
  const entries: EntryTuple[] = value.entries.map((entry) => [
    entry.data,
    entry.id ?? null,
    entry.key ?? null,
    entry.expectedOffset ?? null,
  ]);
  return encoder.encode([valueFormat, value.timestampMs, entries]);
}

/** Decodes bytes whose checksum already matched; a shape that cannot have been written throws. */
export function valueDecode(options: { bytes: Uint8Array; valueId: string; table: string; key: string }): Value {
  const fail = (detail: string): never => {
    throw new CorruptionError({ table: options.table, key: options.key, detail });
  };
  let decoded: unknown;
  try {
    decoded = decoder.decode(options.bytes);
  } catch (error) {
    return fail(`undecodable value: ${(error as Error).message}`);
  }
  if (!Array.isArray(decoded) || decoded.length !== 3) return fail('value is not a 3-element array');
  const [format, timestampMs, entries] = decoded as unknown[];
  if (format !== valueFormat) return fail(`unknown value format ${String(format)}`);
  if (typeof timestampMs !== 'number' || !Array.isArray(entries)) return fail('bad value timestamp or entries');
  return { valueId: options.valueId, timestampMs, entries: entries.map((tuple) => entryDecode(tuple, fail)) };
}

function entryDecode(tuple: unknown, fail: (detail: string) => never): Entry {
  if (!Array.isArray(tuple) || tuple.length !== 4) return fail('entry is not a 4-tuple');
  const [data, id, key, expectedOffset] = tuple as unknown[];
  if (!(data instanceof Uint8Array)) return fail('entry data is not bytes');
  const entry: { -readonly [K in keyof Entry]: Entry[K] } = { data };
  if (typeof id === 'string') entry.id = id;
  else if (id !== null) return fail('entry id is not a string');
  if (typeof key === 'string') entry.key = key;
  else if (key !== null) return fail('entry key is not a string');
  if (typeof expectedOffset === 'number') entry.expectedOffset = expectedOffset;
  else if (expectedOffset !== null) return fail('entry expectedOffset is not a number');
  return entry;
}

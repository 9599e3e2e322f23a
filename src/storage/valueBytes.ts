import { assert } from '../log/assert.js';
import { utf8Bytes, type Value } from '../log/types.js';

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

function countable(value: number): boolean {
  return Number.isSafeInteger(value) && value >= 0;
}

/** msgpack's smallest form of a non-negative integer: fixint, uint 8, 16, 32 or 64. */
function intBytes(value: number): number {
  if (value < 0x80) return 1;
  if (value < 0x100) return 2;
  if (value < 0x10000) return 3;
  if (value < 0x100000000) return 5;
  return 9;
}

function arrayHeaderBytes(length: number): number {
  return length < 16 ? 1 : length < 0x10000 ? 3 : 5;
}

function binHeaderBytes(length: number): number {
  return length < 0x100 ? 2 : length < 0x10000 ? 3 : 5;
}

function stringHeaderBytes(length: number): number {
  return length < 32 ? 1 : length < 0x100 ? 2 : length < 0x10000 ? 3 : 5;
}

function optionalStringBytes(text: string | undefined): number {
  if (text === undefined) return 1;
  const length = utf8Bytes(text);
  return stringHeaderBytes(length) + length;
}

class ByteWriter {
  readonly bytes: Buffer;
  at = 0;

  constructor(size: number) {
    this.bytes = Buffer.allocUnsafe(size);
  }

  byte(value: number): void {
    this.bytes[this.at++] = value;
  }

  /** Big-endian, as msgpack writes its lengths and integers. */
  private uint(value: number, bytes: number): void {
    for (let i = bytes - 1; i >= 0; i--) {
      this.bytes[this.at + i] = value % 256;
      value = Math.floor(value / 256);
    }
    this.at += bytes;
  }

  int(value: number): void {
    if (value < 0x80) this.byte(value);
    else if (value < 0x100) this.head(0xcc, value, 1);
    else if (value < 0x10000) this.head(0xcd, value, 2);
    else if (value < 0x100000000) this.head(0xce, value, 4);
    else this.head(0xcf, value, 8);
  }

  arrayHeader(length: number): void {
    if (length < 16) this.byte(0x90 + length);
    else if (length < 0x10000) this.head(0xdc, length, 2);
    else this.head(0xdd, length, 4);
  }

  bin(data: Uint8Array): void {
    const length = data.byteLength;
    if (length < 0x100) this.head(0xc4, length, 1);
    else if (length < 0x10000) this.head(0xc5, length, 2);
    else this.head(0xc6, length, 4);
    this.bytes.set(data, this.at);
    this.at += length;
  }

  optionalString(text: string | undefined): void {
    if (text === undefined) {
      this.byte(0xc0);
      return;
    }
    const length = utf8Bytes(text);
    if (length < 32) this.byte(0xa0 + length);
    else if (length < 0x100) this.head(0xd9, length, 1);
    else if (length < 0x10000) this.head(0xda, length, 2);
    else this.head(0xdb, length, 4);
    if (length !== text.length) {
      this.at += this.bytes.write(text, this.at, 'utf8');
      return;
    }
    for (let i = 0; i < length; i++) this.bytes[this.at + i] = text.charCodeAt(i);
    this.at += length;
  }

  private head(marker: number, value: number, bytes: number): void {
    this.byte(marker);
    this.uint(value, bytes);
  }
}

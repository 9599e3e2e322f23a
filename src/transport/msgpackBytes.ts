/**
 * Writing msgpack byte by byte, for the shape paxlog writes per entry (a stored value, which
 * accepts also carry): the same bytes as @msgpack/msgpack writes for it (unit tests compare the
 * two), for a fraction of its CPU. Sizes are counted first, so each value is one exact allocation.
 */
import { utf8Bytes } from '../log/types.js';

/** Strings longer than this many UTF-16 units the library writes with TextEncoder. */
const textEncoderCharsMin = 50;

/** Copies up to this long go byte by byte (ByteWriter.copy). */
const copyLoopBytesMax = 16;

export function countable(value: number): boolean {
  return Number.isSafeInteger(value) && value >= 0;
}

/** msgpack's smallest form of a non-negative integer: fixint, uint 8, 16, 32 or 64. */
export function intBytes(value: number): number {
  if (value < 0x80) return 1;
  if (value < 0x100) return 2;
  if (value < 0x10000) return 3;
  if (value < 0x100000000) return 5;
  return 9;
}

export function arrayHeaderBytes(length: number): number {
  return length < 16 ? 1 : length < 0x10000 ? 3 : 5;
}

export function binHeaderBytes(length: number): number {
  return length < 0x100 ? 2 : length < 0x10000 ? 3 : 5;
}

export function stringHeaderBytes(length: number): number {
  return length < 32 ? 1 : length < 0x100 ? 2 : length < 0x10000 ? 3 : 5;
}

/** A string's msgpack form, made once: for the field names written again and again. */
export function stringEncoded(text: string): Uint8Array {
  const writer = new ByteWriter(optionalStringBytes(text));
  writer.optionalString(text);
  return writer.bytes.subarray(0, writer.at);
}

export function optionalStringBytes(text: string | undefined): number {
  if (text === undefined) return 1;
  const length = utf8Bytes(text);
  return stringHeaderBytes(length) + length;
}

export class ByteWriter {
  /** A plain Uint8Array: V8 writes a Buffer (a subclass) byte by byte several times slower. */
  readonly bytes: Uint8Array;
  /** The same memory as a Buffer, for its UTF-8 writer. */
  private readonly buffer: Buffer;
  at = 0;

  constructor(size: number) {
    this.buffer = Buffer.allocUnsafe(size);
    this.bytes = new Uint8Array(this.buffer.buffer, this.buffer.byteOffset, size);
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
    this.copy(data);
  }

  /** A field name or a tiny payload goes byte by byte: TypedArray.set costs more to call. */
  private copy(bytes: Uint8Array): void {
    const length = bytes.byteLength;
    if (length > copyLoopBytesMax) this.bytes.set(bytes, this.at);
    else for (let i = 0; i < length; i++) this.bytes[this.at + i] = bytes[i]!;
    this.at += length;
  }

  mapHeader(count: number): void {
    if (count < 16) this.byte(0x80 + count);
    else if (count < 0x10000) this.head(0xde, count, 2);
    else this.head(0xdf, count, 4);
  }

  /** Bytes already in msgpack form (a field name, say), as they are. */
  raw(bytes: Uint8Array): void {
    this.copy(bytes);
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
    if (length === text.length) {
      for (let i = 0; i < length; i++) this.bytes[this.at + i] = text.charCodeAt(i);
      this.at += length;
    } else if (text.length > textEncoderCharsMin) {
      this.at += this.buffer.write(text, this.at, 'utf8');
    } else {
      this.utf16Write(text);
    }
  }

  /**
   * UTF-8 as @msgpack/msgpack writes a string of up to 50 units: a pair of surrogates as one code
   * point, a lone surrogate as its own 3 bytes (longer strings go through TextEncoder, as here,
   * which writes U+FFFD for it). Clients cannot append an id with a lone surrogate (clientIdProblem).
   */
  private utf16Write(text: string): void {
    for (let i = 0; i < text.length; i++) {
      let unit = text.charCodeAt(i);
      if (unit < 0x80) {
        this.byte(unit);
        continue;
      }
      if (unit < 0x800) {
        this.byte(0xc0 | (unit >> 6));
      } else {
        const next = text.charCodeAt(i + 1);
        if (unit >= 0xd800 && unit <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
          unit = ((unit & 0x3ff) << 10) + (next & 0x3ff) + 0x10000;
          i++;
          this.byte(0xf0 | (unit >> 18));
          this.byte(0x80 | ((unit >> 12) & 0x3f));
        } else {
          this.byte(0xe0 | (unit >> 12));
        }
        this.byte(0x80 | ((unit >> 6) & 0x3f));
      }
      this.byte(0x80 | (unit & 0x3f));
    }
  }

  private head(marker: number, value: number, bytes: number): void {
    this.byte(marker);
    this.uint(value, bytes);
  }
}

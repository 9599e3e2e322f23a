import { type MsgHdrs, MsgHdrsImpl, type NatsConnection } from '@nats-io/transport-node';
import { assert } from '../log/assert.js';
import { utf8Bytes } from '../log/types.js';
import { plainHeaders as H } from './plainHeaders.js';

/**
 * One committed entry as the plain protocol publishes it (docs/PROTOCOL.md): on `subject`, with
 * the headers Paxlog-Offset, Paxlog-Timestamp, then Paxlog-Id and Paxlog-Key when present, in that
 * order. The caller leaves out an id or key that no header can carry.
 */
export interface EntryFrame {
  readonly subject: string;
  readonly offset: number;
  readonly timestampMs: number;
  readonly id: string | undefined;
  readonly key: string | undefined;
  readonly data: Uint8Array;
}

/** What publishFrames did: frames handed to the connection, and frames NATS would refuse. */
export interface FramesSent {
  readonly sent: number;
  readonly refused: number;
}

/** The part of nats.js's connection this module writes through (NatsConnectionImpl.protocol). */
interface ProtocolWriter {
  sendCommand(command: Uint8Array): void;
  readonly info?: { readonly max_payload?: number; readonly headers?: boolean };
  outMsgs?: number;
  /** Set once nc.drain() has drained the subscriptions: nats.js publishes nothing more. */
  readonly noMorePublishing?: boolean;
}

/** Bytes of frames handed to the connection at once: a turn's worth, bounded. */
const chunkBytesMax = 256 << 10;
/** An HPUB line and header block without the subject and the header values, with room to spare. */
const frameOverheadBytes = 160;

/**
 * Publishes frames as NATS `HPUB`s, built in one buffer per chunk and handed to the connection as
 * one command: the bytes `nc.publish(subject, data, { headers })` writes, for a fraction of its
 * CPU. A tail publisher sends every committed entry this way, and nats.js spent most of each
 * publish building a header object and encoding two short strings with a TextEncoder each. Falls
 * back to nc.publish, frame by frame, on a connection without that writer. Never throws: a frame
 * over the server's max_payload, one whose subject or header could not be written as one (a
 * space, a line break), and every frame on a closed or drained connection are refused and counted.
 */
export function publishFrames(nc: NatsConnection, frames: readonly EntryFrame[]): FramesSent {
  const writer = protocolWriter(nc);
  if (writer === null) return publishEach(nc, frames);
  if (nc.isClosed() || writer.noMorePublishing === true) return { sent: 0, refused: frames.length };
  const payloadMax = writer.info?.max_payload ?? Number.MAX_SAFE_INTEGER;
  let refused = 0;
  let chunk = new FrameWriter(chunkBytesFor(frames, 0));
  for (let i = 0; i < frames.length; i++) {
    if (chunk.length >= chunkBytesMax) {
      writer.sendCommand(chunk.bytes());
      chunk = new FrameWriter(chunkBytesFor(frames, i));
    }
    if (!chunk.frame(frames[i]!, payloadMax)) refused++;
  }
  if (chunk.length > 0) writer.sendCommand(chunk.bytes());
  const sent = frames.length - refused;
  if (typeof writer.outMsgs === 'number') writer.outMsgs += sent;
  return { sent, refused };
}

function protocolWriter(nc: NatsConnection): ProtocolWriter | null {
  const protocol = (nc as unknown as { protocol?: Partial<ProtocolWriter> }).protocol;
  if (protocol === undefined || typeof protocol.sendCommand !== 'function' || protocol.info?.headers === false) return null;
  return protocol as ProtocolWriter;
}

function publishEach(nc: NatsConnection, frames: readonly EntryFrame[]): FramesSent {
  let refused = 0;
  for (const frame of frames) {
    try {
      const writable = textBytes(frame.subject, subjectCharForbidden) > 0 && [frame.id, frame.key].every((text) => text === undefined || textBytes(text, headerCharForbidden) >= 0);
      if (!writable) throw new Error('a subject or header that NATS cannot carry');
      nc.publish(frame.subject, frame.data, { headers: frameHeaders(frame) });
    } catch {
      refused++;
    }
  }
  return { sent: frames.length - refused, refused };
}

/** A frame's headers as nats.js headers, in the frame's order. */
export function frameHeaders(frame: EntryFrame): MsgHdrs {
  const record: Record<string, string[]> = { [H.offset]: [String(frame.offset)], [H.timestamp]: [String(frame.timestampMs)] };
  if (frame.id !== undefined) record[H.id] = [frame.id];
  if (frame.key !== undefined) record[H.key] = [frame.key];
  return MsgHdrsImpl.fromRecord(record);
}

/** A first guess at the bytes of frames from `from` on (a FrameWriter grows when it is short). */
function chunkBytesFor(frames: readonly EntryFrame[], from: number): number {
  let bytes = 0;
  for (let i = from; i < frames.length && bytes < chunkBytesMax; i++) bytes += frames[i]!.data.byteLength + frameOverheadBytes;
  return Math.max(bytes, 1_024);
}

/** "NATS/1.0\r\n", the header block's first line, and the CRLF that ends the block. */
const headerBlockFixedBytes = 12;
/** ": " after a header name and CRLF after its value. */
const headerFieldFixedBytes = 4;

/** HPUB frames written one after another into a growing buffer. */
class FrameWriter {
  private buffer: Buffer;
  length = 0;
  /** The last subject found writable: a tail sends many frames on one. */
  private subjectChecked = '';

  constructor(capacity: number) {
    this.buffer = Buffer.allocUnsafe(capacity);
  }

  bytes(): Uint8Array {
    return this.buffer.subarray(0, this.length);
  }

  /**
   * Writes one frame; false (and nothing written) when it exceeds `payloadMax`, or when its subject
   * holds whitespace or a control character, or its id or key a line break: either would end the
   * frame early, and what followed would reach the server as protocol.
   */
  frame(frame: EntryFrame, payloadMax: number): boolean {
    if (frame.subject !== this.subjectChecked) {
      if (frame.subject.length === 0 || textBytes(frame.subject, subjectCharForbidden) < 0) return false;
      this.subjectChecked = frame.subject;
    }
    assert(Number.isSafeInteger(frame.offset) && frame.offset >= 0 && Number.isSafeInteger(frame.timestampMs) && frame.timestampMs >= 0, 'frame offset and timestamp');
    let headerBytes = headerBlockFixedBytes + H.offset.length + digitsCount(frame.offset) + H.timestamp.length + digitsCount(frame.timestampMs) + 2 * headerFieldFixedBytes;
    const idBytes = frame.id === undefined ? 0 : textBytes(frame.id, headerCharForbidden);
    const keyBytes = frame.key === undefined ? 0 : textBytes(frame.key, headerCharForbidden);
    if (idBytes < 0 || keyBytes < 0) return false;
    if (frame.id !== undefined) headerBytes += H.id.length + idBytes + headerFieldFixedBytes;
    if (frame.key !== undefined) headerBytes += H.key.length + keyBytes + headerFieldFixedBytes;
    const totalBytes = headerBytes + frame.data.byteLength;
    if (totalBytes > payloadMax) return false;
    this.reserve(3 * frame.subject.length + frameOverheadBytes + totalBytes);
    this.ascii('HPUB ');
    this.text(frame.subject);
    this.ascii(' ');
    this.digits(headerBytes);
    this.ascii(' ');
    this.digits(totalBytes);
    this.ascii('\r\n');
    const headerStart = this.length;
    this.ascii('NATS/1.0\r\n');
    this.field(H.offset, null, frame.offset);
    this.field(H.timestamp, null, frame.timestampMs);
    if (frame.id !== undefined) this.field(H.id, frame.id, 0);
    if (frame.key !== undefined) this.field(H.key, frame.key, 0);
    this.ascii('\r\n');
    assert(this.length - headerStart === headerBytes, `frame header block: ${this.length - headerStart} bytes written, ${headerBytes} counted`);
    this.buffer.set(frame.data, this.length);
    this.length += frame.data.byteLength;
    this.ascii('\r\n');
    return true;
  }

  /** `name: value\r\n`, the value a string, or the integer `number` when it is null. */
  private field(name: string, value: string | null, number: number): void {
    this.ascii(name);
    this.ascii(': ');
    if (value === null) this.digits(number);
    else this.text(value);
    this.ascii('\r\n');
  }

  private reserve(bytes: number): void {
    if (this.length + bytes <= this.buffer.byteLength) return;
    const grown = Buffer.allocUnsafe(Math.max(2 * this.buffer.byteLength, this.length + bytes));
    this.buffer.copy(grown, 0, 0, this.length);
    this.buffer = grown;
  }

  /** A string known to be ASCII (this module's constants). */
  private ascii(text: string): void {
    const buffer = this.buffer;
    let at = this.length;
    for (let i = 0; i < text.length; i++) buffer[at++] = text.charCodeAt(i);
    this.length = at;
  }

  /** ASCII byte by byte (the usual case: names, keys, ids); anything else as UTF-8. */
  private text(text: string): void {
    const buffer = this.buffer;
    let at = this.length;
    for (let i = 0; i < text.length; i++) {
      const code = text.charCodeAt(i);
      if (code >= 0x80) {
        this.length += buffer.write(text, this.length, 'utf8');
        return;
      }
      buffer[at++] = code;
    }
    this.length = at;
  }

  /** A non-negative safe integer in decimal. */
  private digits(value: number): void {
    const count = digitsCount(value);
    let rest = value;
    for (let i = count - 1; i >= 0; i--) {
      this.buffer[this.length + i] = 48 + (rest % 10);
      rest = Math.floor(rest / 10);
    }
    this.length += count;
  }
}

/** Decimal digits of a non-negative safe integer. */
function digitsCount(value: number): number {
  let count = 1;
  for (let rest = value; rest >= 10; rest = Math.floor(rest / 10)) count++;
  return count;
}

/** A subject ends at whitespace, and cannot hold a control character. */
function subjectCharForbidden(code: number): boolean {
  return code <= 0x20 || code === 0x7f;
}

/** A header value ends at a line break. */
function headerCharForbidden(code: number): boolean {
  return code === 0x0a || code === 0x0d;
}

/** UTF-8 bytes of `text` (its length when it is ASCII), or -1 when it holds a forbidden character. */
function textBytes(text: string, forbidden: (code: number) => boolean): number {
  let ascii = true;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (forbidden(code)) return -1;
    if (code >= 0x80) ascii = false;
  }
  return ascii ? text.length : utf8Bytes(text);
}

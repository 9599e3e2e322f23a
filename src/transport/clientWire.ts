/**
 * Encoders and decoders of the client protocol (append, read, status), in the same result style as
 * peer batches: decoders never throw and name the problem. `errorReply` builds the shared error
 * variant, and `errorReplyFor` turns a decode failure into the reply a server sends back.
 */
import type { z } from 'zod';
import type { ReplicaId } from '../log/ballot.js';
import type { CommittedEntry } from '../log/types.js';
import { bytesOwned, type WireFailure, wireDecode, wireEncode, wireFailure } from './codec.js';
import { appendReplyBytes } from './appendReplyBytes.js';
import { tuplesDecode } from './entryTuples.js';
import {
  type AppendReply,
  type AppendRequest,
  type ErrorCode,
  type ErrorReply,
  type ReadReply,
  type ReadReplyWire,
  type ReadRequest,
  type StatusReply,
  type StatusRequest,
  appendReplyAccepted,
  appendReplySchema,
  appendRequestAccepted,
  appendRequestSchema,
  packedSegmentWire,
  readReplySchema,
  readRequestSchema,
  statusReplySchema,
  statusRequestSchema,
} from './clientSchemas.js';
import { PROTOCOL_VERSION, wireLimits } from './wireLimits.js';

export type RequestDecoded<T> = { readonly ok: true; readonly request: T } | WireFailure;
export type ReplyDecoded<T> = { readonly ok: true; readonly reply: T } | WireFailure;

export interface DecodeOptions {
  readonly bytesMax: number;
}

/**
 * The error variant of every reply. A message longer than the wire bound is truncated (so the
 * reply always decodes); a null or absent hint is left out.
 */
export function errorReply(code: ErrorCode, message: string, leaderHint?: ReplicaId | null): ErrorReply {
  const text = message.length > wireLimits.errorMessageCharsMax ? message.slice(0, wireLimits.errorMessageCharsMax) : message;
  const error = leaderHint === undefined || leaderHint === null ? { code, message: text } : { code, message: text, leaderHint };
  return { v: PROTOCOL_VERSION, ok: false, error };
}

/** The reply to a read from below the retention horizon: it names the first offset kept. */
export function retentionReply(options: { from: number; offsetFirst: number }): ErrorReply {
  const message = `offset ${options.from} is before the retention horizon; the first offset kept is ${options.offsetFirst}`;
  return { v: PROTOCOL_VERSION, ok: false, error: { code: 'retention', message, offsetFirst: options.offsetFirst } };
}

/** The reply to a request that did not decode: the problem is the error code. */
export function errorReplyFor(failure: WireFailure): ErrorReply {
  return errorReply(failure.problem, failure.detail);
}

function decodeBody<S extends z.ZodType>(
  bytes: Uint8Array,
  options: DecodeOptions,
  schema: S,
  accepted?: (raw: unknown) => z.output<S> | null,
): { ok: true; body: z.output<S> } | WireFailure {
  return wireDecode(bytes, accepted === undefined ? { bytesMax: options.bytesMax, schema } : { bytesMax: options.bytesMax, schema, accepted });
}

export function encodeAppendRequest(request: AppendRequest): Uint8Array {
  return wireEncode(request);
}

/** Entry data in the request are views into one private copy of `bytes`, made after the size check. */
export function decodeAppendRequest(bytes: Uint8Array, options: DecodeOptions): RequestDecoded<AppendRequest> {
  const decoded = decodeBody(bytes.byteLength > options.bytesMax ? bytes : bytesOwned(bytes), options, appendRequestSchema, appendRequestAccepted);
  return decoded.ok ? { ok: true, request: decoded.body } : decoded;
}

/** A successful reply is written by appendReplyBytes (the library's bytes, for a fraction of its CPU). */
export function encodeAppendReply(reply: AppendReply): Uint8Array {
  return (reply.ok ? appendReplyBytes(reply.results) : null) ?? wireEncode(reply);
}

export function decodeAppendReply(bytes: Uint8Array, options: DecodeOptions): ReplyDecoded<AppendReply> {
  const decoded = decodeBody(bytes, options, appendReplySchema, appendReplyAccepted);
  return decoded.ok ? { ok: true, reply: decoded.body } : decoded;
}

export function encodeReadRequest(request: ReadRequest): Uint8Array {
  return wireEncode(request);
}

export function decodeReadRequest(bytes: Uint8Array, options: DecodeOptions): RequestDecoded<ReadRequest> {
  const decoded = decodeBody(bytes, options, readRequestSchema);
  return decoded.ok ? { ok: true, request: decoded.body } : decoded;
}

/** A packed reply's segments go as [offsetFirst, timestampMs, count, tuples]. */
export function encodeReadReply(reply: ReadReplyWire): Uint8Array {
  if (reply.ok && 'packed' in reply) return wireEncode({ ...reply, packed: reply.packed.map(packedSegmentWire) });
  return wireEncode(reply);
}

/**
 * Entry data are views into `bytes` (a page is consumed as a whole), as plain Uint8Arrays even
 * when `bytes` is a Buffer: the decoder's slices take the type of what it decodes. A packed reply's
 * segments are decoded into entries here, every tuple checked, their offsets following each other.
 */
export function decodeReadReply(bytes: Uint8Array, options: DecodeOptions): ReplyDecoded<ReadReply> {
  const plain = Object.getPrototypeOf(bytes) === Uint8Array.prototype ? bytes : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const decoded = decodeBody(plain, options, readReplySchema);
  if (!decoded.ok) return decoded;
  const reply = decoded.body;
  if (!reply.ok || !('packed' in reply)) return { ok: true, reply };
  const entries: CommittedEntry[] = [];
  for (const segment of reply.packed) {
    const segmentEntries = tuplesDecode(segment);
    if (typeof segmentEntries === 'string') return wireFailure('schema', segmentEntries);
    const previous = entries[entries.length - 1];
    if (previous !== undefined && segment.offsetFirst <= previous.offset) return wireFailure('schema', `a packed segment at offset ${segment.offsetFirst} follows offset ${previous.offset}`);
    if (entries.length + segmentEntries.length > wireLimits.entriesMax) return wireFailure('schema', `a packed reply holds over ${wireLimits.entriesMax} entries`);
    for (const entry of segmentEntries) entries.push(entry);
  }
  return { ok: true, reply: { v: reply.v, ok: true, entries, offsetNext: reply.offsetNext } };
}

export function encodeStatusRequest(request: StatusRequest): Uint8Array {
  return wireEncode(request);
}

export function decodeStatusRequest(bytes: Uint8Array, options: DecodeOptions): RequestDecoded<StatusRequest> {
  const decoded = decodeBody(bytes, options, statusRequestSchema);
  return decoded.ok ? { ok: true, request: decoded.body } : decoded;
}

export function encodeStatusReply(reply: StatusReply): Uint8Array {
  return wireEncode(reply);
}

export function decodeStatusReply(bytes: Uint8Array, options: DecodeOptions): ReplyDecoded<StatusReply> {
  const decoded = decodeBody(bytes, options, statusReplySchema);
  return decoded.ok ? { ok: true, reply: decoded.body } : decoded;
}

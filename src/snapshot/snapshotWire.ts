/**
 * The snapshot transfer protocol between replicas (request/reply on `paxlog.<log>.snapshot.<id>`,
 * msgpack bodies checked by zod): `open` names the snapshot to take (taking one when none is recent
 * enough), `chunk` reads a piece of it. docs/PROTOCOL.md describes it.
 */
import { z } from 'zod';
import { type WireFailure, wireDecode, wireEncode } from '../transport/codec.js';
import { logNamePattern } from '../transport/subjects.js';
import { PROTOCOL_VERSION } from '../transport/wireLimits.js';
import { type SnapshotManifest, snapshotManifestSchema } from './SnapshotStore.js';

/** The most bytes one chunk reply carries: well inside NATS's default 1 MiB max_payload. */
export const snapshotChunkBytesMax = 512 * 1024;

const v = z.literal(PROTOCOL_VERSION);
const log = z.string().regex(logNamePattern);

export const snapshotRequestSchema = z.discriminatedUnion('op', [
  z.strictObject({ v, log, op: z.literal('open'), instanceMin: z.int().nonnegative() }),
  z.strictObject({
    v,
    log,
    op: z.literal('chunk'),
    name: snapshotManifestSchema.shape.name,
    at: z.int().nonnegative(),
    length: z.int().min(1).max(snapshotChunkBytesMax),
  }),
]);
export type SnapshotRequest = z.output<typeof snapshotRequestSchema>;

export const snapshotErrorCodes = ['behind', 'gone', 'failed', 'malformed', 'schema', 'version', 'too-large', 'unknown-log'] as const;

export const snapshotReplySchema = z.discriminatedUnion('ok', [
  z.strictObject({ v, ok: z.literal(true), snapshot: snapshotManifestSchema.exactOptional(), data: z.custom<Uint8Array>((input) => input instanceof Uint8Array, { message: "expected binary data" }).exactOptional() }),
  z.strictObject({ v, ok: z.literal(false), code: z.enum(snapshotErrorCodes), message: z.string().max(1024) }),
]);
export type SnapshotReply = z.output<typeof snapshotReplySchema>;

export function encodeSnapshotRequest(request: SnapshotRequest): Uint8Array {
  return wireEncode(request);
}

export function decodeSnapshotRequest(bytes: Uint8Array): { ok: true; body: SnapshotRequest } | WireFailure {
  return wireDecode(bytes, { bytesMax: 4_096, schema: snapshotRequestSchema });
}

export function encodeSnapshotReply(reply: SnapshotReply): Uint8Array {
  return wireEncode(reply);
}

export function decodeSnapshotReply(bytes: Uint8Array): { ok: true; body: SnapshotReply } | WireFailure {
  return wireDecode(bytes, { bytesMax: snapshotChunkBytesMax + 4_096, schema: snapshotReplySchema });
}

export function snapshotOpened(snapshot: SnapshotManifest): SnapshotReply {
  return { v: PROTOCOL_VERSION, ok: true, snapshot };
}

export function snapshotChunk(data: Uint8Array): SnapshotReply {
  return { v: PROTOCOL_VERSION, ok: true, data };
}

export function snapshotRefusal(code: (typeof snapshotErrorCodes)[number], message: string): SnapshotReply {
  return { v: PROTOCOL_VERSION, ok: false, code, message: message.slice(0, 1024) };
}

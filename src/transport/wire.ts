/**
 * Peer batches: the consensus messages one replica sends another, encoded as one msgpack map per
 * NATS message on `peerSubject({ log, replica: to })`, followed by a CRC32 of that map (4 bytes,
 * big-endian): a batch (a chunk of log transfer included) is verified whole before anything in
 * it is looked at.
 */
import { crc32 } from 'node:zlib';
import { z } from 'zod';
import { assert } from '../log/assert.js';
import type { ReplicaId } from '../log/ballot.js';
import type { ReplicaMessage } from '../replica/Replica.js';
import { bytesAllocated, bytesOwned, type WireFailure, wireDecode, wireEncode } from './codec.js';
import { valueEncode } from '../storage/valueCodec.js';
import { type ReplicaMessageWire, replicaIdSchema, replicaMessageSchema } from './schemas.js';
import { logNamePattern } from './subjects.js';
import { PROTOCOL_VERSION, wireLimits } from './wireLimits.js';

export { PROTOCOL_VERSION, wireLimits } from './wireLimits.js';
export type { WireFailure, WireProblem } from './codec.js';

export interface PeerBatch {
  readonly v: typeof PROTOCOL_VERSION;
  readonly log: string;
  readonly from: ReplicaId;
  readonly to: ReplicaId;
  readonly messages: readonly ReplicaMessage[];
}

/** Every message in a batch must come from the batch's sender: a replica speaks only for itself. */
export const peerBatchSchema = z
  .strictObject({
    v: z.literal(PROTOCOL_VERSION),
    log: z.string().regex(logNamePattern, 'invalid log name'),
    from: replicaIdSchema,
    to: replicaIdSchema,
    messages: z.array(replicaMessageSchema).max(wireLimits.batchMessagesMax),
  })
  .superRefine((batch, context) => {
    const index = batch.messages.findIndex((message) => message.from !== batch.from);
    if (index >= 0) {
      context.addIssue({ code: 'custom', path: ['messages', index, 'from'], message: `differs from the batch sender ${batch.from}` });
    }
  });

export type PeerBatchDecoded =
  | { readonly ok: true; readonly batch: PeerBatch }
  | WireFailure
  | { readonly ok: false; readonly problem: 'checksum'; readonly detail: string };

/** The CRC32 trailer's length. */
const trailerBytes = 4;

/** `bytes` followed by their CRC32, as a peer batch travels. */
export function withChecksum(bytes: Uint8Array): Uint8Array {
  const out = bytesAllocated(bytes.byteLength + trailerBytes);
  out.set(bytes);
  new DataView(out.buffer, out.byteOffset + bytes.byteLength, trailerBytes).setUint32(0, crc32(bytes));
  return out;
}

export function encodePeerBatch(batch: PeerBatch): Uint8Array {
  return withChecksum(peerBatchBody(batch));
}

/** A batch's msgpack map, its accepts in their wire form. */
function peerBatchBody(batch: PeerBatch): Uint8Array {
  const { v, log, from, to, messages } = batch;
  return wireEncode({ v, log, from, to, messages: messages.map(peerMessageWire) });
}

/**
 * A message as it travels: an accept carries its value in the stored form (valueEncode: made once
 * per value, and the leader writes the same bytes to its own store). Writing it is one copy of the
 * bytes, where a map per entry cost a leader 15% of its CPU under the producer's load, and a
 * follower reads the entries back without a msgpack library and stores the bytes as they came.
 */
export function peerMessageWire(message: ReplicaMessage): ReplicaMessageWire {
  if (message.type !== 'accept') return message;
  return { ...message, value: { valueId: message.value.valueId, stored: valueEncode(message.value) } };
}

/** The highest replica id msgpack writes in one byte (a positive fixint). */
const fixintMax = 0x7f;

/**
 * The same messages for several peers, as one batch each. A leader sends every accept and commit
 * notice to all its peers, and a batch of 1,000 entries takes longer to encode than to send, so the
 * messages are encoded once: `to` is a one-byte fixint at a fixed position in the map (the keys go
 * in the order PeerBatch lists them), and each other copy differs only in that byte and its CRC32.
 * Replica ids above 127 are encoded one batch at a time.
 */
export function encodePeerBatches(batch: Omit<PeerBatch, 'to'>, recipients: readonly ReplicaId[]): Uint8Array[] {
  const [first] = recipients;
  if (first === undefined) return [];
  const { v, log, from, messages } = batch;
  if (recipients.some((to) => to > fixintMax)) return recipients.map((to) => encodePeerBatch({ v, log, from, to, messages }));
  const body = peerBatchBody({ v, log, from, to: first, messages });
  const toAt = wireEncode({ v, log, from, to: first }).byteLength - 1;
  assert(body[toAt] === first, `peer batch: to ${first} is not at byte ${toAt}`);
  return recipients.map((to) => {
    const out = bytesAllocated(body.byteLength + trailerBytes);
    out.set(body);
    out[toAt] = to;
    new DataView(out.buffer, out.byteOffset + body.byteLength, trailerBytes).setUint32(0, crc32(out.subarray(0, body.byteLength)));
    return out;
  });
}

/**
 * Decodes a peer batch, never throwing: `too-large` (checked before parsing), `malformed` (not
 * msgpack), `version` (`v` is not PROTOCOL_VERSION), or `schema` (anything else wrong).
 */
export function decodePeerBatch(bytes: Uint8Array, options: { readonly bytesMax: number }): PeerBatchDecoded {
  if (bytes.byteLength > options.bytesMax) return { ok: false, problem: 'too-large', detail: `${bytes.byteLength} bytes exceeds bytesMax ${options.bytesMax}` };
  if (bytes.byteLength <= trailerBytes) return { ok: false, problem: 'malformed', detail: `${bytes.byteLength} bytes: no room for a batch and its CRC32` };
  const body = bytes.subarray(0, bytes.byteLength - trailerBytes);
  const stored = new DataView(bytes.buffer, bytes.byteOffset + body.byteLength, trailerBytes).getUint32(0);
  const computed = crc32(body);
  if (stored !== computed) return { ok: false, problem: 'checksum', detail: `CRC32 ${computed} of the batch, trailer says ${stored}` };
  // One private copy for the whole batch: its entries' data are views into it (entriesSchema),
  // never into `bytes`, which NATS may reuse, and no entry costs a buffer of its own.
  const decoded = wireDecode(bytesOwned(body), { bytesMax: options.bytesMax, schema: peerBatchSchema });
  if (!decoded.ok) return decoded;
  // The schema's output type is already assignable to PeerBatch (see the checks in schemas.ts).
  const batch: PeerBatch = decoded.body;
  return { ok: true, batch };
}

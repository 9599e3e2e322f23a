/**
 * The msgpack layer shared by every paxlog body: encode, then decode in four checks, each with its
 * own problem: size first (before any parsing), msgpack well-formedness, protocol version, schema.
 */
import { Decoder, Encoder } from '@msgpack/msgpack';
import type { z } from 'zod';
import { PROTOCOL_VERSION, wireLimits } from './wireLimits.js';

export type WireProblem = 'too-large' | 'malformed' | 'schema' | 'version';

export interface WireFailure {
  readonly ok: false;
  readonly problem: WireProblem;
  readonly detail: string;
}

/** `undefined` fields are left out, never sent as nil: optional fields stay absent on the wire. */
const encoder = new Encoder({ ignoreUndefined: true });

export function wireEncode(body: unknown): Uint8Array {
  return bytesOwned(encoder.encodeSharedRef(body));
}

/** One decoder per bound, made once: a Decoder is costly to construct (about a microsecond). */
const decoders = new Map<number, Decoder>();
const decodersMax = 16;

function decoderFor(bytesMax: number): Decoder {
  const known = decoders.get(bytesMax);
  if (known !== undefined) return known;
  const decoder = decoderMake(bytesMax);
  if (decoders.size < decodersMax) decoders.set(bytesMax, decoder);
  return decoder;
}

function decoderMake(bytesMax: number): Decoder {
  return new Decoder({
    maxStrLength: bytesMax,
    maxBinLength: bytesMax,
    maxExtLength: bytesMax,
    maxArrayLength: wireLimits.entriesMax,
    maxMapLength: wireLimits.mapKeysMax,
  });
}

/** Below this, copies come from Node's Buffer pool (Buffer.poolSize is 8 KiB; it serves up to half). */
const pooledBytesMax = 4096;

/**
 * A private copy of `bytes`, as a plain Uint8Array. A small one comes from Node's Buffer pool: a
 * buffer of its own costs a backing store (about 1 µs for 130 bytes, against 0.2 µs pooled), and a
 * replica copies every request and peer batch it decodes. A pooled copy keeps its 8 KiB slab alive.
 */
export function bytesOwned(bytes: Uint8Array): Uint8Array {
  if (bytes.byteLength >= pooledBytesMax) return bytes.slice();
  const owned = bytesAllocated(bytes.byteLength);
  owned.set(bytes);
  return owned;
}

/** `length` bytes of uninitialized memory of its own, as a plain Uint8Array, pooled when small. */
export function bytesAllocated(length: number): Uint8Array {
  if (length >= pooledBytesMax) return new Uint8Array(length);
  const pooled = Buffer.allocUnsafe(length);
  return new Uint8Array(pooled.buffer, pooled.byteOffset, length);
}

export function wireFailure(problem: WireProblem, detail: string): WireFailure {
  return { ok: false, problem, detail };
}

/** Up to three zod issues as `path: message`, so a log line says what was wrong and where. */
export function issuesText(error: z.ZodError): string {
  const shown = error.issues.slice(0, 3).map((issue) => {
    const path = issue.path.map(String).join('.');
    return `${path === '' ? '(root)' : path}: ${issue.message}`;
  });
  const more = error.issues.length > 3 ? ` (+${error.issues.length - 3} more)` : '';
  return shown.join('; ') + more;
}

/** A map whose `v` is not PROTOCOL_VERSION is a version problem; no map or no `v` is a schema one. */
function versionProblem(raw: unknown): WireFailure | null {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw) || raw instanceof Uint8Array) {
    return wireFailure('schema', 'expected a map at the root');
  }
  if (!('v' in raw)) return wireFailure('schema', 'v: missing protocol version');
  const v = (raw as { v: unknown }).v;
  if (v !== PROTOCOL_VERSION) {
    return wireFailure('version', `protocol version ${String(v)} is not supported (this side speaks ${PROTOCOL_VERSION})`);
  }
  return null;
}

/**
 * Decodes one msgpack body and validates it against `schema`. Never throws on bad input.
 * Fields checked with bytesSchema are copies; the entries of a peer batch or an append request are
 * views into `bytes`, which decodePeerBatch and decodeAppendRequest make a private copy of first.
 */
export function wireDecode<S extends z.ZodType>(
  bytes: Uint8Array,
  options: {
    readonly bytesMax: number;
    readonly schema: S;
    /** A one-pass check that returns the body when the schema would accept it unchanged, else null. */
    readonly accepted?: (raw: unknown) => z.output<S> | null;
  },
): { readonly ok: true; readonly body: z.output<S> } | WireFailure {
  if (bytes.byteLength > options.bytesMax) {
    return wireFailure('too-large', `${bytes.byteLength} bytes exceeds bytesMax ${options.bytesMax}`);
  }
  let raw: unknown;
  try {
    raw = decoderFor(options.bytesMax).decode(bytes);
  } catch (error) {
    return wireFailure('malformed', `invalid msgpack: ${error instanceof Error ? error.message : String(error)}`);
  }
  const versionFailure = versionProblem(raw);
  if (versionFailure !== null) return versionFailure;
  const body = options.accepted?.(raw) ?? null;
  if (body !== null) return { ok: true, body };
  const parsed = options.schema.safeParse(raw);
  if (!parsed.success) return wireFailure('schema', issuesText(parsed.error));
  return { ok: true, body: parsed.data };
}

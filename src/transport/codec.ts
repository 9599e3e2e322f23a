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
  return encoder.encode(body);
}

function decoderFor(bytesMax: number): Decoder {
  return new Decoder({
    maxStrLength: bytesMax,
    maxBinLength: bytesMax,
    maxExtLength: bytesMax,
    maxArrayLength: wireLimits.entriesMax,
    maxMapLength: wireLimits.mapKeysMax,
  });
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
  options: { readonly bytesMax: number; readonly schema: S },
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
  const parsed = options.schema.safeParse(raw);
  if (!parsed.success) return wireFailure('schema', issuesText(parsed.error));
  return { ok: true, body: parsed.data };
}

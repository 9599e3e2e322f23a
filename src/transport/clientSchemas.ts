/**
 * The client protocol's messages: plain NATS request/reply with msgpack bodies on the append, read
 * and status subjects, so any NATS client in any language can speak it (docs/PROTOCOL.md).
 */
import { z } from 'zod';
import type { ReplicaId } from '../log/ballot.js';
import type { CommittedEntry, Entry, EntryResult, PackedSegment } from '../log/types.js';
import {
  bytesSchema,
  clientIdProblem,
  countSchema,
  entryIdSchema,
  entryKeySchema,
  replicaIdSchema,
} from './schemas.js';
import { logNamePattern } from './subjects.js';
import type { Assignable, Holds, Writable } from './typeChecks.js';
import { PROTOCOL_VERSION, wireLimits } from './wireLimits.js';

export const errorCodes = [
  'not-leader',
  'overloaded',
  'too-large',
  'invalid',
  'malformed',
  'schema',
  'version',
  'unknown-log',
  'timeout',
  'superseded',
  'retention',
  'internal',
] as const;

export type ErrorCode = (typeof errorCodes)[number];

export interface ErrorReply {
  readonly v: typeof PROTOCOL_VERSION;
  readonly ok: false;
  readonly error: {
    readonly code: ErrorCode;
    readonly message: string;
    readonly leaderHint?: ReplicaId;
    /** With code 'retention': the first offset still kept. */
    readonly offsetFirst?: number;
  };
}

export interface AppendRequest {
  readonly v: typeof PROTOCOL_VERSION;
  /** The log this request is for; it must match the subject's log. */
  readonly log: string;
  readonly entries: readonly Entry[];
}
export type AppendReply = { readonly v: typeof PROTOCOL_VERSION; readonly ok: true; readonly results: readonly EntryResult[] } | ErrorReply;

export interface ReadRequest {
  readonly v: typeof PROTOCOL_VERSION;
  readonly log: string;
  /** The first offset wanted. */
  readonly from: number;
  /** The most entries wanted; a reply may hold fewer. */
  readonly limit: number;
  /** Only entries with this key (`offsetNext` then tells how far the replica scanned). */
  readonly key?: string;
  /** With nothing committed at `from` yet, wait up to this long for it (a long poll). */
  readonly waitMs?: number;
  /** Answer with the entries in their stored form (`ReadReplyWire`'s `packed`), not as maps. */
  readonly packed?: true;
}
/** A read's answer as the client uses it: a packed reply's segments are decoded into entries. */
export type ReadReply =
  | { readonly v: typeof PROTOCOL_VERSION; readonly ok: true; readonly entries: readonly CommittedEntry[]; readonly offsetNext: number }
  | ErrorReply;
/** A read's answer as it travels: entries as maps, or, to a packed read, as segments of entry tuples. */
export type ReadReplyWire =
  | ReadReply
  | { readonly v: typeof PROTOCOL_VERSION; readonly ok: true; readonly packed: readonly PackedSegment[]; readonly offsetNext: number };

export interface StatusRequest {
  readonly v: typeof PROTOCOL_VERSION;
  readonly log: string;
}
export type StatusReply =
  | { readonly v: typeof PROTOCOL_VERSION; readonly ok: true; readonly status: Readonly<Record<string, unknown>> }
  | ErrorReply;

const v = z.literal(PROTOCOL_VERSION);
/**
 * Entry keys become subject tokens of the live tail (`paxlog.<log>.entries.<key>`), so they are
 * dot-separated tokens without spaces or wildcards.
 */
export const keyPattern = /^[A-Za-z0-9_\-:=@]+(\.[A-Za-z0-9_\-:=@]+)*$/;
const keySchema = entryKeySchema.min(1).regex(keyPattern, 'a key is dot-separated tokens of letters, digits and _-:=@');
const log = z.string().regex(logNamePattern, 'a log name is 1-64 letters, digits, _ or -');

export const errorReplySchema = z.strictObject({
  v,
  ok: z.literal(false),
  error: z.strictObject({
    code: z.enum(errorCodes),
    message: z.string().max(wireLimits.errorMessageCharsMax),
    leaderHint: replicaIdSchema.exactOptional(),
    offsetFirst: countSchema.exactOptional(),
  }),
});

/**
 * Client ids and keys must be non-empty: an empty id would make every later entry a duplicate.
 * An id must also survive a NATS header unchanged (clientIdProblem).
 */
const clientIdSchema = entryIdSchema.min(1).superRefine((id, context) => {
  const problem = clientIdProblem(id);
  if (problem !== null) context.addIssue({ code: 'custom', message: problem });
});

/**
 * One entry of an append request, as a zod schema: the specification. Requests are checked with
 * appendEntryWireProblem instead, in one pass: a request may carry thousands of entries, where
 * zod's per-field machinery cost the leader 3-5 µs per entry. test/unit/wire.test.ts checks that
 * both accept and refuse the same entries.
 */
export const appendEntrySchema = z.strictObject({
  data: bytesSchema,
  id: clientIdSchema.exactOptional(),
  key: keySchema.exactOptional(),
  expectedOffset: countSchema.exactOptional(),
});

/**
 * What the append subject would refuse in an entry's id, key or expected offset, or null. The
 * batching producer checks each append with it before the append joins a batch, so one bad id or
 * key fails that append alone rather than the whole request it would share.
 */
export function appendEntryProblem(entry: { id?: string; key?: string; expectedOffset?: number }): string | null {
  const { id, key, expectedOffset } = entry;
  if (id !== undefined) {
    if (typeof id !== 'string' || id.length < 1 || id.length > wireLimits.idCharsMax) return `id must be a string of 1 to ${wireLimits.idCharsMax} characters`;
    const problem = clientIdProblem(id);
    if (problem !== null) return problem;
  }
  if (key !== undefined && (typeof key !== 'string' || key.length > wireLimits.keyCharsMax || !keyPattern.test(key))) return 'a key is dot-separated tokens of letters, digits and _-:=@, at most 256 characters';
  if (expectedOffset !== undefined && !(Number.isSafeInteger(expectedOffset) && expectedOffset >= 0)) return 'expectedOffset must be a non-negative integer';
  return null;
}

const appendEntryKeys = new Set(['data', 'id', 'key', 'expectedOffset']);

/** `appendEntrySchema`'s rules for a decoded entry, in one pass; null when it passes. */
export function appendEntryWireProblem(input: unknown): string | null {
  if (typeof input !== 'object' || input === null || Array.isArray(input) || input instanceof Uint8Array) return 'an entry must be a map';
  const entry = input as Record<string, unknown>;
  for (const key in entry) if (!appendEntryKeys.has(key)) return `unknown entry field ${key}`;
  if (!(entry['data'] instanceof Uint8Array)) return 'entry data must be binary (msgpack bin)';
  return appendEntryProblem(entry as { id?: string; key?: string; expectedOffset?: number });
}

const appendEntriesSchema = z
  .custom<unknown[]>((input) => Array.isArray(input), { message: 'entries must be a list' })
  .superRefine((entries, context) => {
    if (entries.length < 1 || entries.length > wireLimits.entriesMax) {
      context.addIssue({ code: 'custom', message: `entries must hold 1 to ${wireLimits.entriesMax} entries` });
      return;
    }
    for (let i = 0; i < entries.length; i++) {
      const problem = appendEntryWireProblem(entries[i]);
      if (problem === null) continue;
      context.addIssue({ code: 'custom', path: [i], message: problem });
      return;
    }
  })
  // Entry data stay views into the private copy decodeAppendRequest decodes (see entriesSchema).
  .transform((entries): Entry[] => entries as Entry[]);

export const appendRequestSchema = z.strictObject({ v, log, entries: appendEntriesSchema });

/** Whether `raw` has exactly the keys `keys` (no other, none missing). */
function keysExactly(raw: Record<string, unknown>, keys: readonly string[]): boolean {
  let count = 0;
  for (const key in raw) {
    if (!keys.includes(key)) return false;
    count++;
  }
  return count === keys.length;
}

/**
 * A decoded append request that `appendRequestSchema` accepts, checked in one pass (a leader
 * decodes one per request; zod took 3.5-5.4 µs for a single entry), or null: let the schema say
 * what is wrong. test/unit/wire.test.ts checks that it accepts nothing the schema refuses.
 */
export function appendRequestAccepted(raw: unknown): z.output<typeof appendRequestSchema> | null {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return null;
  const request = raw as Record<string, unknown>;
  if (!keysExactly(request, ['v', 'log', 'entries']) || request['v'] !== PROTOCOL_VERSION) return null;
  const { log: name, entries } = request;
  if (typeof name !== 'string' || !logNamePattern.test(name)) return null;
  if (!Array.isArray(entries) || entries.length < 1 || entries.length > wireLimits.entriesMax) return null;
  for (const entry of entries) if (appendEntryWireProblem(entry) !== null) return null;
  return raw as z.output<typeof appendRequestSchema>;
}

const entryResultSchema = z.discriminatedUnion('status', [
  z.strictObject({ status: z.literal('ok'), offset: countSchema }),
  z.strictObject({ status: z.literal('duplicate'), offset: countSchema }),
  z.strictObject({ status: z.literal('conflict'), offsetNext: countSchema }),
]);

export const appendReplySchema = z.discriminatedUnion('ok', [
  z.strictObject({ v, ok: z.literal(true), results: z.array(entryResultSchema).max(wireLimits.entriesMax) }),
  errorReplySchema,
]);

/**
 * A decoded successful append reply that `appendReplySchema` accepts, checked in one pass (a
 * producer's reply carries a result per append; zod took 0.6-1 µs each), or null: let the schema
 * decide, and say what is wrong.
 */
export function appendReplyAccepted(raw: unknown): z.output<typeof appendReplySchema> | null {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return null;
  const reply = raw as Record<string, unknown>;
  if (!keysExactly(reply, ['v', 'ok', 'results']) || reply['v'] !== PROTOCOL_VERSION || reply['ok'] !== true) return null;
  const results = reply['results'];
  if (!Array.isArray(results) || results.length > wireLimits.entriesMax) return null;
  for (const result of results) if (!entryResultAccepted(result)) return null;
  return raw as z.output<typeof appendReplySchema>;
}

function entryResultAccepted(raw: unknown): boolean {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return false;
  const result = raw as Record<string, unknown>;
  const status = result['status'];
  const field = status === 'ok' || status === 'duplicate' ? 'offset' : status === 'conflict' ? 'offsetNext' : null;
  if (field === null || !keysExactly(result, ['status', field])) return false;
  const offset = result[field];
  return Number.isSafeInteger(offset) && (offset as number) >= 0;
}

export const readRequestSchema = z.strictObject({
  v,
  log,
  from: countSchema,
  limit: z.int().min(1).max(wireLimits.entriesMax),
  key: keySchema.exactOptional(),
  waitMs: z.int().min(0).max(wireLimits.waitMsMax).exactOptional(),
  packed: z.literal(true).exactOptional(),
});

const committedEntrySchema = z.strictObject({
  offset: countSchema,
  data: bytesSchema,
  id: entryIdSchema.exactOptional(),
  key: entryKeySchema.exactOptional(),
  timestampMs: countSchema,
});

const committedEntryKeys = new Set(['offset', 'data', 'id', 'key', 'timestampMs']);

/** `committedEntrySchema`'s rules in one pass: a read reply carries thousands of entries. */
export function committedEntryProblem(input: unknown): string | null {
  if (typeof input !== 'object' || input === null) return 'an entry must be a map';
  const entry = input as Record<string, unknown>;
  for (const key in entry) if (!committedEntryKeys.has(key)) return `unknown entry field ${key}`;
  if (!(entry['data'] instanceof Uint8Array)) return 'entry data must be binary';
  for (const count of ['offset', 'timestampMs']) {
    const value = entry[count];
    if (!(Number.isSafeInteger(value) && (value as number) >= 0)) return `${count} must be a non-negative integer`;
  }
  if ('id' in entry && (typeof entry['id'] !== 'string' || entry['id'].length > wireLimits.idCharsMax)) return 'id must be a string of at most 256 characters';
  if ('key' in entry && (typeof entry['key'] !== 'string' || entry['key'].length > wireLimits.keyCharsMax)) return 'key must be a string of at most 256 characters';
  return null;
}

const committedEntriesSchema = z.custom<CommittedEntry[]>((input) => {
  if (!Array.isArray(input) || input.length > wireLimits.entriesMax) return false;
  for (const entry of input) if (committedEntryProblem(entry) !== null) return false;
  return true;
}, { message: 'entries must be a list of committed entries { offset, data: bin, id?, key?, timestampMs }' });
// Entry data stay views into the reply: decodeReadReply decodes a plain Uint8Array view of it, so
// they are plain Uint8Arrays whatever buffer type the reply arrived in, with no object made per entry.

/** A packed segment's envelope; its tuples are checked as they are decoded (decodeReadReply). */
const packedSegmentSchema = z
  .tuple([countSchema, countSchema, z.int().min(1).max(wireLimits.entriesMax), bytesSchema])
  .transform(([offsetFirst, timestampMs, count, tuples]): PackedSegment => ({ offsetFirst, timestampMs, count, tuples }));

export const readReplySchema = z.union([
  z.strictObject({ v, ok: z.literal(true), entries: committedEntriesSchema, offsetNext: countSchema }),
  z.strictObject({ v, ok: z.literal(true), packed: z.array(packedSegmentSchema).max(wireLimits.entriesMax), offsetNext: countSchema }),
  errorReplySchema,
]);

/** A packed segment as it travels: [offsetFirst, timestampMs, count, tuples]. */
export function packedSegmentWire(segment: PackedSegment): [number, number, number, Uint8Array] {
  return [segment.offsetFirst, segment.timestampMs, segment.count, segment.tuples];
}

export const statusRequestSchema = z.strictObject({ v, log });

export const statusReplySchema = z.discriminatedUnion('ok', [
  z.strictObject({ v, ok: z.literal(true), status: z.record(z.string(), z.unknown()) }),
  errorReplySchema,
]);

// ---- compile-time drift checks: decoded output is the declared type, and back ----------------

export type ClientSchemasMatch = [
  Holds<Assignable<z.output<typeof appendRequestSchema>, AppendRequest>>,
  Holds<Assignable<z.output<typeof appendReplySchema>, AppendReply>>,
  Holds<Assignable<z.output<typeof readRequestSchema>, ReadRequest>>,
  Holds<Assignable<z.output<typeof readReplySchema>, ReadReplyWire>>,
  Holds<Assignable<z.output<typeof statusRequestSchema>, StatusRequest>>,
  Holds<Assignable<z.output<typeof statusReplySchema>, StatusReply>>,
  Holds<Assignable<Writable<AppendRequest>, z.input<typeof appendRequestSchema>>>,
  Holds<Assignable<Writable<AppendReply>, z.input<typeof appendReplySchema>>>,
  Holds<Assignable<Writable<ReadRequest>, z.input<typeof readRequestSchema>>>,
  Holds<Assignable<Writable<ReadReply>, z.input<typeof readReplySchema>>>,
  Holds<Assignable<Writable<StatusRequest>, z.input<typeof statusRequestSchema>>>,
  Holds<Assignable<Writable<StatusReply>, z.input<typeof statusReplySchema>>>,
  // Structural typing lets a schema silently drop an optional field; the key sets catch that.
  Holds<Assignable<keyof Entry, keyof z.output<typeof appendRequestSchema>['entries'][number]>>,
  Holds<Assignable<keyof Entry, keyof z.output<typeof appendEntrySchema>>>,
  Holds<Assignable<z.output<typeof appendEntrySchema>, Entry>>,
  Holds<Assignable<keyof CommittedEntry, keyof z.output<typeof committedEntrySchema>>>,
  Holds<Assignable<keyof ErrorReply['error'], keyof z.output<typeof errorReplySchema>['error']>>,
];

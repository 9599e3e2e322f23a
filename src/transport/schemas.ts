/**
 * zod schemas for every consensus message a replica sends (`ReplicaMessage`): the Paxos messages of
 * `src/log/messages.ts` and the PaxosLease messages of `src/election/messages.ts`, field by field.
 * Objects are strict (an unknown field is a schema error) and optional fields use `exactOptional`,
 * so a decoded entry lacks `id` rather than holding `id: undefined` (exactOptionalPropertyTypes).
 * The type checks at the end fail to compile if a message type and its schema drift apart.
 */
import { z } from 'zod';
import type { LeaseMessage } from '../election/messages.js';
import type { AcceptMessage, PaxosMessage } from '../log/messages.js';
import type { Entry, Value } from '../log/types.js';
import { valueFromStored } from '../storage/valueCodec.js';
import type { ReplicaMessage } from '../replica/Replica.js';
import { incarnationsMax } from '../log/ballot.js';
import type { Assignable, Holds, Writable } from './typeChecks.js';
import { wireLimits } from './wireLimits.js';

/** Integers are safe integers (zod's `int`); counts and positions are never negative. */
export const countSchema = z.int().nonnegative();
/** Instances are numbered from 1, as are replica ids. */
export const instanceSchema = z.int().positive();
export const replicaIdSchema = z.int().positive();

/** Binary data, copied out of the decoded buffer so no view keeps a whole batch alive. */
export const bytesSchema = z
  .custom<Uint8Array>((input) => input instanceof Uint8Array, { message: 'expected binary data (msgpack bin)' })
  .transform((bytes): Uint8Array => new Uint8Array(bytes));

export const entryIdSchema = z.string().max(wireLimits.idCharsMax);

const controlCharacter = /[\u0000-\u001f\u007f]/;
/** A surrogate not in a pair: with `u`, a pair matches as one astral code point, never as Cs. */
const loneSurrogate = /\p{Cs}/u;

/**
 * What is wrong with `id` as an id a client appends, or null. An id travels as a NATS header value
 * (`Paxlog-Id`) on the live tail and in plain replay, where a line break would end the header and
 * surrounding whitespace is trimmed away. So an id has no control character, no leading or
 * trailing whitespace and no lone surrogate, and reads back the same on every path. Only where
 * clients append: peers and storage take any id up to the length limit, so a log written before
 * this rule still replicates.
 */
export function clientIdProblem(id: string): string | null {
  if (controlCharacter.test(id)) return 'an id cannot hold a control character (U+0000-U+001F, U+007F)';
  if (id.trim() !== id) return 'an id cannot start or end with whitespace';
  // msgpack writers disagree on a lone surrogate (U+FFFD, or its 3 bytes as they are), so an id
  // holding one might not read back as itself on every replica, nor match itself in the dedup window.
  if (loneSurrogate.test(id)) return 'an id must be well-formed Unicode: no lone surrogate (U+D800-U+DFFF)';
  return null;
}
export const entryKeySchema = z.string().max(wireLimits.keyCharsMax);

/**
 * Rounds and lease epochs from a peer stay far below 2^53: a replica's next ballot is one round
 * above the highest it has seen, and the cores assert that it is still a safe integer, so a round
 * of 2^53 - 1 in one message used to crash every replica that saw it. 2^48 rounds outlast any
 * cluster (a new round every millisecond for 8,900 years).
 */
export const roundsMax = 2 ** 48;
const roundSchema = countSchema.max(roundsMax);

/** The zero ballot (round 0, replica 0) is legal: a reject may report it as the promise. */
export const ballotSchema = z.strictObject({ round: roundSchema, replica: countSchema, incarnation: countSchema.max(incarnationsMax - 1) });
export const leaseBallotSchema = z.strictObject({ round: roundSchema, epoch: roundSchema, replica: countSchema });

export const entrySchema = z.strictObject({
  data: bytesSchema,
  id: entryIdSchema.exactOptional(),
  key: entryKeySchema.exactOptional(),
  expectedOffset: countSchema.exactOptional(),
});

const entryKeys = new Set(['data', 'id', 'key', 'expectedOffset']);

/**
 * The same rules as `entrySchema`, checked in one pass: a value carries up to tens of thousands of
 * entries on the hot path, where zod's per-field machinery costs several microseconds per entry.
 * `test/unit/wire.test.ts` checks that both accept and refuse the same entries.
 */
export function entryProblem(input: unknown): string | null {
  if (typeof input !== 'object' || input === null) return 'an entry must be a map';
  const entry = input as Record<string, unknown>;
  for (const key in entry) if (!entryKeys.has(key)) return `unknown entry field ${key}`;
  if (!(entry['data'] instanceof Uint8Array)) return 'entry data must be binary';
  const { id, key, expectedOffset } = entry;
  if ('id' in entry && (typeof id !== 'string' || id.length > wireLimits.idCharsMax)) return 'entry id must be a string of at most 256 characters';
  if ('key' in entry && (typeof key !== 'string' || key.length > wireLimits.keyCharsMax)) return 'entry key must be a string of at most 256 characters';
  if ('expectedOffset' in entry && !(Number.isSafeInteger(expectedOffset) && (expectedOffset as number) >= 0)) return 'expectedOffset must be a non-negative integer';
  return null;
}

export const entriesSchema = z.custom<Entry[]>((input) => {
  if (!Array.isArray(input) || input.length > wireLimits.entriesMax) return false;
  for (const entry of input) if (entryProblem(entry) !== null) return false;
  return true;
}, { message: 'entries must be a list of at most 65,536 entries { data: bin, id?: str, key?: str, expectedOffset?: int >= 0 }' });
// Entry data stay views: decodePeerBatch decodes a private copy of the batch, one copy for all its
// entries rather than one small buffer each (a third of a follower's decode, and as much GC work).

export const valueSchema = z.strictObject({
  valueId: z.string().min(1).max(wireLimits.valueIdCharsMax),
  entries: entriesSchema,
  timestampMs: countSchema,
});

/**
 * An accept's value as it travels: its stored form (src/storage/valueCodec.ts), which the follower
 * checks entry by entry as it decodes it, and then writes as it is. Its bytes are views into the
 * batch's private copy.
 */
const storedValueSchema = z
  .strictObject({
    valueId: valueSchema.shape.valueId,
    stored: z.custom<Uint8Array>((input) => input instanceof Uint8Array, { message: 'expected binary data (msgpack bin)' }),
  })
  .transform((wire, context): Value => {
    const value = valueFromStored({ bytes: wire.stored, valueId: wire.valueId });
    if (typeof value !== 'string') return value;
    context.issues.push({ code: 'custom', message: `stored value: ${value}`, input: wire.stored });
    return z.NEVER;
  });

export const instanceRecordSchema = z.strictObject({
  instance: instanceSchema,
  ballot: ballotSchema,
  value: valueSchema,
  chosen: z.boolean(),
});

const itemsMax = wireLimits.messageItemsMax;

export const paxosMessageSchemas = [
  z.strictObject({ type: z.literal('probe'), from: replicaIdSchema, floor: countSchema.nullable() }),
  z.strictObject({
    type: z.literal('probed'),
    from: replicaIdSchema,
    committedInstance: countSchema,
    acceptedInstanceMax: countSchema,
    promised: ballotSchema,
  }),
  z.strictObject({ type: z.literal('prepare'), from: replicaIdSchema, ballot: ballotSchema, instanceFrom: instanceSchema }),
  z.strictObject({
    type: z.literal('promise'),
    from: replicaIdSchema,
    ballot: ballotSchema,
    instanceFrom: instanceSchema,
    records: z.array(instanceRecordSchema).max(itemsMax),
    instanceNext: instanceSchema.nullable(),
    committedInstance: countSchema,
    compactedInstance: countSchema,
  }),
  z.strictObject({ type: z.literal('accept'), from: replicaIdSchema, ballot: ballotSchema, instance: instanceSchema, value: storedValueSchema }),
  z.strictObject({ type: z.literal('accepted'), from: replicaIdSchema, ballot: ballotSchema, instance: instanceSchema }),
  z.strictObject({ type: z.literal('reject'), from: replicaIdSchema, ballot: ballotSchema, promised: ballotSchema }),
  z.strictObject({
    type: z.literal('commit'),
    from: replicaIdSchema,
    ballot: ballotSchema,
    chosen: z.array(z.strictObject({ instance: instanceSchema, valueId: valueSchema.shape.valueId })).max(itemsMax),
    committedInstance: countSchema,
    tailPublisher: replicaIdSchema,
  }),
  z.strictObject({ type: z.literal('fetch'), from: replicaIdSchema, instanceFrom: instanceSchema }),
  z.strictObject({
    type: z.literal('fetched'),
    from: replicaIdSchema,
    values: z.array(z.strictObject({ instance: instanceSchema, value: valueSchema })).max(itemsMax),
    committedInstance: countSchema,
    compactedInstance: countSchema,
  }),
] as const;

export const logPositionSchema = z.strictObject({ committedInstance: countSchema, acceptedInstanceMax: countSchema });

export const leaseMessageSchemas = [
  z.strictObject({ type: z.literal('lease-prepare'), from: replicaIdSchema, ballot: leaseBallotSchema, position: logPositionSchema }),
  z.strictObject({
    type: z.literal('lease-promise'),
    from: replicaIdSchema,
    ballot: leaseBallotSchema,
    lease: z.strictObject({ holder: replicaIdSchema, ticksLeft: countSchema }).nullable(),
    holding: z.boolean(),
    position: logPositionSchema,
  }),
  z.strictObject({ type: z.literal('lease-propose'), from: replicaIdSchema, ballot: leaseBallotSchema }),
  z.strictObject({ type: z.literal('lease-accepted'), from: replicaIdSchema, ballot: leaseBallotSchema }),
  z.strictObject({
    type: z.literal('lease-reject'),
    from: replicaIdSchema,
    ballot: leaseBallotSchema,
    promised: leaseBallotSchema,
    reason: z.enum(['ballot', 'behind']),
    position: logPositionSchema,
  }),
  z.strictObject({ type: z.literal('lease-release'), from: replicaIdSchema, ballot: leaseBallotSchema }),
] as const;

export const replicaMessageSchema = z.discriminatedUnion('type', [...paxosMessageSchemas, ...leaseMessageSchemas]);

// ---- compile-time drift checks ---------------------------------------------------------------

/** An accept as it travels: its value in its stored form (peerMessageWire). */
export type AcceptWire = Omit<AcceptMessage, 'value'> & { readonly value: { readonly valueId: string; readonly stored: Uint8Array } };
export type ReplicaMessageWire = Exclude<ReplicaMessage, AcceptMessage> | AcceptWire;

/** A decoded message is a ReplicaMessage (no field or variant the schema invents)... */
export type DecodedIsMessage = Holds<Assignable<z.output<typeof replicaMessageSchema>, ReplicaMessage>>;
/** ...and every ReplicaMessage passes the schema's types (no field or variant it forgets). */
export type MessageIsEncodable = Holds<Assignable<Writable<ReplicaMessageWire>, z.input<typeof replicaMessageSchema>>>;
export type PaxosCovered = Holds<Assignable<Writable<Exclude<PaxosMessage, AcceptMessage>>, z.input<typeof replicaMessageSchema>>>;
export type LeaseCovered = Holds<Assignable<Writable<LeaseMessage>, z.input<typeof replicaMessageSchema>>>;
/** Structural typing lets a schema silently drop an optional field; the key sets catch that. */
export type EntryKeysCovered = Holds<Assignable<keyof Entry, keyof z.output<typeof entrySchema>>>;

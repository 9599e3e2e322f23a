import type { Ballot, ReplicaId } from './ballot.js';

/** One client entry as proposed. `id` makes a retry idempotent; `expectedOffset` is a condition. */
export interface Entry {
  readonly data: Uint8Array;
  readonly id?: string;
  readonly key?: string;
  /** The entry commits only if it would land exactly at this offset. */
  readonly expectedOffset?: number;
}

/**
 * The value of one instance: a batch of entries, learned all or nothing. A no-op has no entries.
 * `valueId` names the value for its whole life (it keeps its id when a new leader re-proposes it):
 * it is `<ballot>:<instance>` of the ballot and instance where the value was first proposed.
 */
export interface Value {
  readonly valueId: string;
  readonly entries: readonly Entry[];
  /** The proposing leader's clock; the learner makes it monotonic. */
  readonly timestampMs: number;
}

/** What an acceptor keeps per instance. `chosen` marks a value the replica learned was chosen. */
export interface InstanceRecord {
  readonly instance: number;
  readonly ballot: Ballot;
  readonly value: Value;
  readonly chosen: boolean;
}

/** The acceptor's and proposer's durable scalars. */
export interface HardState {
  /** The highest ballot this acceptor promised; it never decreases. */
  readonly promised: Ballot;
  /** The highest round this replica used as a proposer; a new ballot always exceeds it. */
  readonly roundMax: number;
  /** This store's incarnation, part of every ballot this replica makes (see Ballot); never changes. */
  readonly incarnation: number;
  /**
   * The replica started from an empty store (new, or its disk was lost) and is rebuilding: a
   * non-voting learner until it may vote again (see Rebuild). Absent means false.
   */
  readonly rebuilding?: boolean;
}

/** The learner's applied state: restored from the state machine after a restart. */
export interface LearnerState {
  /** Every instance up to and including this one has been learned and released. 0 = none. */
  readonly committedInstance: number;
  /** The offset the next committed entry gets (= the number of entries before it). */
  readonly offsetNext: number;
  /** The timestamp of the last committed batch, so timestamps never go backwards. */
  readonly timestampLastMs: number;
  /** Recent client ids with their offsets, oldest first. */
  readonly dedup: ReadonlyArray<readonly [string, number]>;
}

export const learnerStateEmpty: LearnerState = Object.freeze({
  committedInstance: 0,
  offsetNext: 0,
  timestampLastMs: 0,
  dedup: [],
});

export type EntryResult =
  | { readonly status: 'ok'; readonly offset: number }
  | { readonly status: 'duplicate'; readonly offset: number }
  | { readonly status: 'conflict'; readonly offsetNext: number };

export interface CommittedEntry {
  readonly offset: number;
  readonly data: Uint8Array;
  readonly id?: string;
  readonly key?: string;
  readonly timestampMs: number;
}

/**
 * Committed entries at consecutive offsets from one batch, in their stored form: `count` entry
 * tuples laid end to end in `tuples` (src/transport/entryTuples.ts), at offsets from `offsetFirst`.
 */
export interface PackedSegment {
  readonly offsetFirst: number;
  readonly timestampMs: number;
  readonly count: number;
  readonly tuples: Uint8Array;
}

/**
 * The one way to make a committed entry (the learner's, and a stored batch's read back), so both
 * have one shape: an absent id or key (undefined, or null as stored) is left out.
 */
export function committedEntryMake(options: { offset: number; data: Uint8Array; id: string | null | undefined; key: string | null | undefined; timestampMs: number }): CommittedEntry {
  const { offset, data, id, key, timestampMs } = options;
  const committed: { -readonly [K in keyof CommittedEntry]: CommittedEntry[K] } = { offset, data, timestampMs };
  if (id !== undefined && id !== null) committed.id = id;
  if (key !== undefined && key !== null) committed.key = key;
  return committed;
}

/** A batch released by the learner, strictly in instance order. */
export interface CommittedBatch {
  readonly instance: number;
  readonly valueId: string;
  readonly timestampMs: number;
  /** Only the entries that received an offset (duplicates and conflicts get none). */
  readonly entries: readonly CommittedEntry[];
  /** One result per proposed entry, in proposal order. */
  readonly results: readonly EntryResult[];
  /** The learner's state after this batch, for a state machine that persists it. */
  readonly offsetNext: number;
  /**
   * Set when this replica publishes the batch on the plain live tail: it was the publisher named
   * when it learned the batch (by the commit notice that announced it, on a follower). Decided per
   * batch, so a change of publisher hands over between two notices, with no gap and no overlap.
   */
  readonly publishTail?: true;
}

export type ProposalId = number;

export type ProposalFailure =
  | 'not-leader'
  | 'superseded'
  | 'overloaded'
  | 'too-large'
  | 'invalid';

export type ProposalOutcome =
  | {
      readonly proposalId: ProposalId;
      readonly status: 'committed';
      readonly instance: number;
      readonly results: readonly EntryResult[];
    }
  | {
      readonly proposalId: ProposalId;
      readonly status: 'failed';
      readonly reason: ProposalFailure;
      readonly leaderHint: ReplicaId | null;
    };

export function valueBytes(value: Value): number {
  return entriesBytes(value.entries);
}

/** What a value holding `entries` counts for (valueBytes), before it is made one. */
export function entriesBytes(entries: readonly Entry[]): number {
  let bytes = 64;
  for (const entry of entries) bytes += entryBytes(entry);
  return bytes;
}

/**
 * At least what an entry takes in any paxlog message (msgpack): its data, its id and key in UTF-8
 * (up to 3 bytes per UTF-16 unit: counting units undercounted ids of CJK or symbols 3-fold, and
 * promise pages of them outgrew NATS's max_payload), and the field names and headers around them.
 * Every byte bound on values, batches and pages counts entries with this.
 */
export function entryBytes(entry: Entry): number {
  return entryOverheadBytes + entry.data.byteLength + utf8Bytes(entry.id) + utf8Bytes(entry.key);
}

/**
 * At least what a committed entry takes in a read reply: as entryBytes, with its offset and
 * timestamp (field names and 9-byte integers) instead of an expected offset.
 */
export function committedEntryBytes(entry: CommittedEntry): number {
  return entryBytes(entry) + 32;
}

/** An entry's map, its four field names, and the headers of its fields, in msgpack: 1 + 19 + 28. */
const entryOverheadBytes = 48;

/** The UTF-8 length of `text` (0 for none), as msgpack writes it; a lone surrogate counts 3. */
export function utf8Bytes(text: string | undefined): number {
  if (text === undefined) return 0;
  let bytes = text.length;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit < 0x80) continue;
    if (unit < 0x800) {
      bytes += 1; // 2 bytes for 1 unit
    } else if (unit >= 0xd800 && unit <= 0xdbff && isLowSurrogate(text.charCodeAt(i + 1))) {
      bytes += 2; // 4 bytes for a pair of units
      i++;
    } else {
      bytes += 2; // 3 bytes for 1 unit
    }
  }
  return bytes;
}

function isLowSurrogate(unit: number): boolean {
  return unit >= 0xdc00 && unit <= 0xdfff;
}

/**
 * NATS subjects of one log. Every subject starts with `paxlog.<log>.`, so a log name must be a
 * single subject token: letters, digits, `_` and `-`, 1 to 64 characters (no `.`, `*`, `>` or
 * whitespace, which NATS gives a meaning).
 */
import type { ReplicaId } from '../log/ballot.js';

export const logNamePattern = /^[A-Za-z0-9_-]{1,64}$/;

export function isLogName(name: string): boolean {
  return logNamePattern.test(name);
}

/** Throws a RangeError naming the bad log name; subject builders call it so no bad subject exists. */
export function logNameCheck(name: string): string {
  if (!isLogName(name)) {
    throw new RangeError(`invalid log name ${JSON.stringify(name)}: expected 1-64 of [A-Za-z0-9_-]`);
  }
  return name;
}

/** Batches of consensus messages addressed to one replica of one log. */
export function peerSubject(options: { log: string; replica: ReplicaId }): string {
  if (!Number.isSafeInteger(options.replica) || options.replica < 1) {
    throw new RangeError(`invalid replica id ${options.replica}: expected an integer >= 1`);
  }
  return `paxlog.${logNameCheck(options.log)}.peer.${options.replica}`;
}

/** Client appends (request/reply). */
export function appendSubject(log: string): string {
  return `paxlog.${logNameCheck(log)}.append`;
}

/** Client reads of committed entries (request/reply). */
export function readSubject(log: string): string {
  return `paxlog.${logNameCheck(log)}.read`;
}

/** Replica status (request/reply). */
export function statusSubject(log: string): string {
  return `paxlog.${logNameCheck(log)}.status`;
}

/** Plain-NATS appends: the body is the entry's bytes, headers carry id, key and expected offset. */
export function publishSubject(log: string): string {
  return `paxlog.${logNameCheck(log)}.publish`;
}

/** Plain-NATS replay: the answer is one message per entry, then an end marker. */
export function replaySubject(log: string): string {
  return `paxlog.${logNameCheck(log)}.replay`;
}

/** The live tail of committed entries, one subject per key (`_` for entries without a key). */
export function entriesSubject(log: string, key: string | undefined): string {
  return `paxlog.${logNameCheck(log)}.entries.${key ?? '_'}`;
}

/** Snapshot transfer from one replica (request/reply): open a snapshot, then read it in chunks. */
export function snapshotSubject(options: { log: string; replica: ReplicaId }): string {
  if (!Number.isSafeInteger(options.replica) || options.replica < 1) {
    throw new RangeError(`invalid replica id ${options.replica}: expected an integer >= 1`);
  }
  return `paxlog.${logNameCheck(options.log)}.snapshot.${options.replica}`;
}

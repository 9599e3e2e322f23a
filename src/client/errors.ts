import type { ReplicaId } from '../log/ballot.js';

/** Every error paxlog's client throws; `code` tells which. */
export class PaxlogError extends Error {
  override readonly name: string = 'PaxlogError';

  constructor(
    readonly code: string,
    message: string,
    readonly leaderHint: ReplicaId | null = null,
  ) {
    super(message);
  }
}

/** The deadline passed before the append was acknowledged. It may still commit: retry with its id. */
export class TimeoutError extends PaxlogError {
  override readonly name = 'TimeoutError';
}

/** `expectedOffset` was stale: the entry was not written. `offsetNext` is the log's next offset. */
export class ConflictError extends PaxlogError {
  override readonly name = 'ConflictError';

  constructor(
    message: string,
    readonly offsetNext: number,
  ) {
    super('conflict', message);
  }
}

/** No replica served appends before the deadline (no leader, or none reachable). */
export class NoLeaderError extends PaxlogError {
  override readonly name = 'NoLeaderError';
}

/** The entry or batch is over the server's size limits. */
export class PayloadTooLargeError extends PaxlogError {
  override readonly name = 'PayloadTooLargeError';
}

/** The entries asked for are gone (retention): `offsetFirst` is the first offset still kept. */
export class RetentionError extends PaxlogError {
  override readonly name = 'RetentionError';

  constructor(
    message: string,
    readonly offsetFirst: number,
  ) {
    super('retention', message);
  }
}

/** Any other refusal the server named (schema, version, unknown-log, invalid, ...). */
export class RequestError extends PaxlogError {
  override readonly name = 'RequestError';
}

/** The typed error for a server error code. */
export function errorFor(code: string, message: string, leaderHint: ReplicaId | null, offsetFirst?: number): PaxlogError {
  if (code === 'retention') return new RetentionError(message, offsetFirst ?? 0);
  if (code === 'too-large') return new PayloadTooLargeError(code, message, leaderHint);
  if (code === 'not-leader') return new NoLeaderError(code, message, leaderHint);
  if (code === 'timeout') return new TimeoutError(code, message, leaderHint);
  return new RequestError(code, message, leaderHint);
}

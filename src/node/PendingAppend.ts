import type { ReplicaId } from '../log/ballot.js';
import type { Entry, EntryResult } from '../log/types.js';
import type { ErrorCode } from '../transport/clientSchemas.js';

export interface AppendFailure {
  readonly code: ErrorCode;
  readonly message: string;
  readonly leaderHint: ReplicaId | null;
}

/** An append request waiting for its batch's outcome, whatever subject it came on. */
export interface PendingAppend {
  readonly entries: readonly Entry[];
  readonly bytes: number;
  succeed(results: readonly EntryResult[]): void;
  fail(failure: AppendFailure): void;
}

import type { Msg } from '@nats-io/transport-node';
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

/** How an endpoint answers the append requests it admitted, once each. */
export interface AppendAnswerer {
  succeeded(msg: Msg, results: readonly EntryResult[]): void;
  failed(msg: Msg, failure: AppendFailure): void;
}

/**
 * An admitted append request until its outcome answers it: `release` gives its memory back to
 * AppendAdmission, then `answerer` replies. A class, not an object of closures: run through tsx
 * (esbuild's keepNames), a closure in an object literal is named with a defineProperty call each
 * time it is made, and one was made per request.
 */
export class RequestAppend implements PendingAppend {
  readonly entries: readonly Entry[];
  readonly bytes: number;
  private readonly msg: Msg;
  private readonly release: () => void;
  private readonly answerer: AppendAnswerer;

  constructor(options: { entries: readonly Entry[]; bytes: number; msg: Msg; release: () => void; answerer: AppendAnswerer }) {
    this.entries = options.entries;
    this.bytes = options.bytes;
    this.msg = options.msg;
    this.release = options.release;
    this.answerer = options.answerer;
  }

  succeed(results: readonly EntryResult[]): void {
    this.release();
    this.answerer.succeeded(this.msg, results);
  }

  fail(failure: AppendFailure): void {
    this.release();
    this.answerer.failed(this.msg, failure);
  }
}

import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { ReplicaId } from '../log/ballot.js';
import type { CommittedEntry, Entry, EntryResult } from '../log/types.js';
import type { ErrorCode } from '../transport/clientSchemas.js';
import {
  decodeAppendReply,
  decodeReadReply,
  decodeStatusReply,
  encodeAppendRequest,
  encodeReadRequest,
  encodeStatusRequest,
} from '../transport/clientWire.js';
import { appendSubject, readSubject, statusSubject } from '../transport/subjects.js';
import { PROTOCOL_VERSION } from '../transport/wire.js';

/** A failed request, with the replica's error code (or `timeout` when the deadline passed). */
export class PaxlogError extends Error {
  override readonly name = 'PaxlogError';

  constructor(
    readonly code: ErrorCode | 'no-leader',
    message: string,
    readonly leaderHint: ReplicaId | null = null,
  ) {
    super(message);
  }
}

/** Errors worth another try: the leader may be changing, or the connection coming back. */
const retriable = new Set<string>(['not-leader', 'superseded', 'overloaded', 'timeout', 'no-leader']);

const replyBytesMax = 64 << 20;

/**
 * A small paxlog client over NATS request/reply. Appends retry across leader changes and
 * reconnects until their deadline; give entries an `id` to make those retries idempotent.
 */
export class PaxlogClient {
  private constructor(
    readonly nc: NatsConnection,
    readonly log: string,
  ) {}

  static async connect(options: { servers: string; log: string; name?: string }): Promise<PaxlogClient> {
    const nc = await connect({ servers: options.servers, name: options.name ?? 'paxlog-client', maxReconnectAttempts: -1, reconnectTimeWait: 100 });
    return new PaxlogClient(nc, options.log);
  }

  async append(entries: readonly Entry[], options: { timeoutMs?: number; attemptMs?: number } = {}): Promise<EntryResult[]> {
    const deadline = Date.now() + (options.timeoutMs ?? 30_000);
    const body = encodeAppendRequest({ v: PROTOCOL_VERSION, log: this.log, entries });
    let last: PaxlogError = new PaxlogError('timeout', 'append timed out');
    for (let attempt = 0; Date.now() < deadline; attempt++) {
      try {
        const msg = await this.nc.request(appendSubject(this.log), body, { timeout: Math.min(options.attemptMs ?? 2_000, Math.max(1, deadline - Date.now())) });
        const decoded = decodeAppendReply(msg.data, { bytesMax: replyBytesMax });
        if (!decoded.ok) throw new PaxlogError('malformed', `bad reply: ${decoded.detail}`);
        const reply = decoded.reply;
        if (reply.ok) return [...reply.results];
        last = new PaxlogError(reply.error.code, reply.error.message, reply.error.leaderHint ?? null);
        if (!retriable.has(reply.error.code)) throw last;
      } catch (error) {
        if (error instanceof PaxlogError && !retriable.has(error.code)) throw error;
        if (!(error instanceof PaxlogError)) last = new PaxlogError('no-leader', `no leader answered: ${(error as Error).message}`);
      }
      await new Promise((resolve) => setTimeout(resolve, Math.min(200, 5 * 2 ** Math.min(attempt, 6))));
    }
    throw last;
  }

  /** A page of committed entries from `from`, from any replica or from one. */
  async read(options: { from: number; limit: number; replica?: ReplicaId; timeoutMs?: number }): Promise<{ entries: CommittedEntry[]; offsetNext: number }> {
    const subject = options.replica === undefined ? readSubject(this.log) : `${readSubject(this.log)}.${options.replica}`;
    const msg = await this.nc.request(subject, encodeReadRequest({ v: PROTOCOL_VERSION, log: this.log, from: options.from, limit: options.limit }), { timeout: options.timeoutMs ?? 5_000 });
    const decoded = decodeReadReply(msg.data, { bytesMax: replyBytesMax });
    if (!decoded.ok) throw new PaxlogError('malformed', `bad reply: ${decoded.detail}`);
    if (!decoded.reply.ok) throw new PaxlogError(decoded.reply.error.code, decoded.reply.error.message);
    return { entries: [...decoded.reply.entries], offsetNext: decoded.reply.offsetNext };
  }

  /** Every replica's status, gathered for `waitMs`. */
  async status(options: { waitMs?: number } = {}): Promise<Array<Record<string, unknown>>> {
    const replies = await this.nc.requestMany(statusSubject(this.log), encodeStatusRequest({ v: PROTOCOL_VERSION, log: this.log }), {
      maxWait: options.waitMs ?? 300,
    });
    const statuses: Array<Record<string, unknown>> = [];
    for await (const msg of replies) {
      const decoded = decodeStatusReply(msg.data, { bytesMax: replyBytesMax });
      if (decoded.ok && decoded.reply.ok) statuses.push({ ...decoded.reply.status });
    }
    return statuses.sort((a, b) => Number(a['id']) - Number(b['id']));
  }

  async close(): Promise<void> {
    await this.nc.drain().catch(() => this.nc.close());
  }
}

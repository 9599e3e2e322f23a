import type { Msg, NatsConnection, Subscription } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import type { ReplicaId } from '../log/ballot.js';
import type { SnapshotStore } from '../snapshot/SnapshotStore.js';
import {
  decodeSnapshotRequest,
  encodeSnapshotReply,
  snapshotChunk,
  snapshotOpened,
  snapshotRefusal,
  type SnapshotReply,
  type SnapshotRequest,
} from '../snapshot/snapshotWire.js';
import type { SqliteLog } from '../storage/SqliteLog.js';
import { snapshotSubject } from '../transport/subjects.js';
import type { Counters } from './Counters.js';
import { sendProblem } from './sendProblem.js';

/**
 * Serves this replica's snapshots to replicas that need one: `open` answers with a snapshot at or
 * beyond the instance asked for, taking one (without stopping appends) when none is; `chunk`
 * answers with a piece of it. Bad requests get an error reply and are counted.
 */
export class SnapshotEndpoint {
  private subscription: Subscription | null = null;

  constructor(
    private readonly options: {
      readonly log: string;
      readonly id: ReplicaId;
      readonly nc: NatsConnection;
      readonly counters: Counters;
      readonly logger: Logger;
      /** This log's snapshots (open once the replica started). */
      readonly snapshots: () => SnapshotStore;
      /** The live store, or null while this replica installs a snapshot of its own. */
      readonly store: () => SqliteLog | null;
    },
  ) {}

  start(): void {
    const subject = snapshotSubject({ log: this.options.log, replica: this.options.id });
    this.subscription = this.options.nc.subscribe(subject, { callback: (error, msg) => void this.onRequest(error, msg) });
  }

  private async onRequest(error: Error | null, msg: Msg): Promise<void> {
    if (error !== null || msg.reply === undefined || msg.reply === '') return;
    const decoded = decodeSnapshotRequest(msg.data);
    if (!decoded.ok) {
      this.options.counters.add(`refused.snapshot-${decoded.problem}`);
      this.respond(msg, snapshotRefusal(decoded.problem, decoded.detail));
      return;
    }
    const reply = await this.answer(decoded.body).catch((failure: Error): SnapshotReply => {
      this.options.logger.warn({ err: failure }, 'a snapshot request failed');
      return snapshotRefusal('failed', failure.message);
    });
    if (!reply.ok) this.options.counters.add(`refused.snapshot-${reply.code}`);
    this.respond(msg, reply);
  }

  /** Never throws: this runs in an async NATS callback, where a throw would end the process. */
  private respond(msg: Msg, reply: SnapshotReply): void {
    const problem = sendProblem(() => msg.respond(encodeSnapshotReply(reply)));
    if (problem === null) return;
    this.options.counters.drop('snapshot-reply-send');
    this.options.logger.warn({ problem }, 'a snapshot reply could not be sent');
  }

  private async answer(request: SnapshotRequest): Promise<SnapshotReply> {
    if (request.log !== this.options.log) return snapshotRefusal('unknown-log', `this subject serves log ${this.options.log}`);
    const snapshots = this.options.snapshots();
    if (request.op === 'chunk') {
      const data = snapshots.readChunk({ name: request.name, at: request.at, length: request.length });
      return data === null ? snapshotRefusal('gone', `snapshot ${request.name} is no longer kept`) : snapshotChunk(data);
    }
    const latest = snapshots.latest();
    if (latest !== null && latest.instance >= request.instanceMin) return snapshotOpened(latest);
    const store = this.options.store();
    if (store === null) return snapshotRefusal('failed', 'this replica is installing a snapshot itself');
    if (store.committedInstance < request.instanceMin) {
      return snapshotRefusal('behind', `this replica has committed ${store.committedInstance} < ${request.instanceMin}`);
    }
    this.options.counters.add('snapshot.taken');
    return snapshotOpened(await snapshots.take(store));
  }

  stop(): void {
    this.subscription?.unsubscribe();
    this.subscription = null;
  }
}

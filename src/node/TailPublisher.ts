import { assert } from '../log/assert.js';
import type { CommittedBatch, CommittedEntry } from '../log/types.js';
import type { Counters } from './Counters.js';

export interface TailPublisherOptions {
  /** Publishes entries on the live tail, in order (never throws: PlainEndpoint counts a refused send). */
  readonly publish: (entries: readonly CommittedEntry[]) => void;
  readonly counters: Counters;
  /** Entries published in one turn of the event loop. */
  readonly entriesPerTurnMax: number;
  /** Entries waiting to be published; a batch beyond it is dropped whole, and counted. */
  readonly queuedEntriesMax: number;
}

/**
 * The plain live tail of one replica: the entries of the batches the core marked for it
 * (CommittedBatch.publishTail), published in commit order, at most entriesPerTurnMax per turn of
 * the event loop. A Ready can commit a whole window of batches at once (32 of 4,096 entries is half
 * a second of publishing), and published in one go they held the loop, and the lease messages
 * waiting behind it, for that long.
 */
export class TailPublisher {
  private readonly queue: CommittedBatch[] = [];
  private queuedEntries = 0;
  /** Entries of queue[0] already published. */
  private publishedInFirst = 0;
  private scheduled: ReturnType<typeof setImmediate> | null = null;
  /** Whether the last batch committed here was for the tail (counts hand-overs). */
  private publishing = false;
  /** Cleared by stop(): a stopping replica publishes nothing more. */
  private stopped = false;

  constructor(private readonly options: TailPublisherOptions) {
    assert(options.entriesPerTurnMax >= 1 && options.queuedEntriesMax >= 1, 'tail publisher bounds');
  }

  /** Queues a committed batch when it is marked for the tail (and stop() was not called). */
  committed(batch: CommittedBatch): void {
    const publishing = !this.stopped && batch.publishTail === true;
    if (publishing !== this.publishing) this.options.counters.add(publishing ? 'tail.started' : 'tail.stopped');
    this.publishing = publishing;
    if (!publishing || batch.entries.length === 0) return;
    if (this.queuedEntries + batch.entries.length > this.options.queuedEntriesMax) {
      this.options.counters.add('dropped.tail-behind', batch.entries.length);
      return;
    }
    this.queue.push(batch);
    this.queuedEntries += batch.entries.length;
    this.scheduled ??= setImmediate(() => this.publishTurn());
  }

  /** Entries waiting to be published. */
  get entriesQueued(): number {
    return this.queuedEntries - this.publishedInFirst;
  }

  stop(): void {
    this.stopped = true;
    if (this.scheduled !== null) clearImmediate(this.scheduled);
    this.scheduled = null;
    this.queue.length = 0;
    this.queuedEntries = 0;
    this.publishedInFirst = 0;
  }

  private publishTurn(): void {
    this.scheduled = null;
    let budget = this.options.entriesPerTurnMax;
    while (budget > 0 && this.queue.length > 0) {
      const batch = this.queue[0]!;
      const end = Math.min(batch.entries.length, this.publishedInFirst + budget);
      this.options.publish(this.publishedInFirst === 0 && end === batch.entries.length ? batch.entries : batch.entries.slice(this.publishedInFirst, end));
      budget -= end - this.publishedInFirst;
      this.publishedInFirst = end;
      if (end < batch.entries.length) break;
      this.queue.shift();
      this.queuedEntries -= batch.entries.length;
      this.publishedInFirst = 0;
    }
    assert(this.queuedEntries >= 0 && (this.queue.length > 0 || this.queuedEntries === 0), 'tail queue count');
    if (this.queue.length > 0) this.scheduled = setImmediate(() => this.publishTurn());
  }
}

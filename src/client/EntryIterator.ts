import type { CommittedEntry } from '../log/types.js';

/** A committed entry as a stream delivers it. */
export interface StreamEntry {
  readonly offset: number;
  readonly key: string | undefined;
  readonly id: string | undefined;
  readonly data: Uint8Array;
  /** The leader's clock when the entry's batch was proposed, made non-decreasing along the log. */
  readonly timestamp: number;
}

export function streamEntryOf(entry: CommittedEntry): StreamEntry {
  return { offset: entry.offset, key: entry.key, id: entry.id, data: entry.data, timestamp: entry.timestampMs };
}

/**
 * Entries one at a time from a generator of pages: what PaxlogClient.entries() returns. An async
 * generator that yields each entry of a page costs three times as much per entry (a replay
 * delivers hundreds of thousands a second); here an entry already read is one resolved promise.
 * Calls are served in order, even when a caller asks again before an answer came.
 */
export class EntryIterator implements AsyncGenerator<StreamEntry, void, undefined> {
  private page: readonly CommittedEntry[] = [];
  private at = 0;
  /** The last call that had to wait for a page (or return, or throw): later calls wait behind it. */
  private waiting: Promise<unknown> | null = null;

  constructor(private readonly pages: AsyncGenerator<readonly CommittedEntry[], void, undefined>) {}

  next(): Promise<IteratorResult<StreamEntry, void>> {
    if (this.waiting === null && this.at < this.page.length) return Promise.resolve({ value: streamEntryOf(this.page[this.at++]!), done: false });
    return this.behindWaiting(() => this.nextFromPages());
  }

  return(): Promise<IteratorResult<StreamEntry, void>> {
    return this.behindWaiting(async () => {
      this.page = [];
      await this.pages.return(undefined);
      return { value: undefined, done: true };
    });
  }

  throw(error: unknown): Promise<IteratorResult<StreamEntry, void>> {
    return this.behindWaiting(async () => {
      this.page = [];
      await this.pages.throw(error);
      return { value: undefined, done: true };
    });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  private async nextFromPages(): Promise<IteratorResult<StreamEntry, void>> {
    while (this.at >= this.page.length) {
      const result = await this.pages.next();
      if (result.done === true) return { value: undefined, done: true };
      this.page = result.value;
      this.at = 0;
    }
    return { value: streamEntryOf(this.page[this.at++]!), done: false };
  }

  private behindWaiting<T>(call: () => Promise<T>): Promise<T> {
    const result = (this.waiting ?? Promise.resolve()).then(call);
    const settled = result.then(
      () => undefined,
      () => undefined,
    );
    this.waiting = settled;
    void settled.then(() => {
      if (this.waiting === settled) this.waiting = null;
    });
    return result;
  }
}

import { assert } from '../log/assert.js';

/**
 * Admitted appends on their way to being decoded, taken in arrival order within a budget per turn
 * of the event loop (`costPerTurnMax`, in the caller's units). Within the budget an append is
 * taken at once, so a lone append waits for nothing; past it, the rest wait for the next turn.
 *
 * nats.js hands a replica every message of a socket read in one go (libuv reads up to 2 MiB a
 * poll). Decoded there, a burst of large appends was read no faster than it was decoded: no tick,
 * lease message or socket read ran meanwhile, admission never filled, and with megabytes waiting
 * in nats-server the leader's connection was dropped (nats.js: stale, nats-server: past its write
 * deadline), its unread requests never answered. Taken a budget a turn, the socket keeps being
 * read, and what admission refuses is refused for the cost of a reply. The queue itself is
 * bounded by admission (AppendAdmission).
 */
export class AppendIntake<T> {
  private readonly queue: Array<{ item: T; cost: number } | undefined> = [];
  private head = 0;
  private spentThisTurn = 0;
  private turnScheduled = false;
  private readonly turnBound = () => this.turn();

  constructor(private readonly options: { costPerTurnMax: number; take: (item: T) => void }) {
    assert(Number.isSafeInteger(options.costPerTurnMax) && options.costPerTurnMax >= 1, `AppendIntake costPerTurnMax ${options.costPerTurnMax}`);
  }

  /** Appends waiting for a later turn. */
  get size(): number {
    return this.queue.length - this.head;
  }

  /** Takes `item` now while this turn's budget lasts and nothing waits before it, else queues it. */
  push(item: T, cost: number): void {
    assert(Number.isFinite(cost) && cost >= 0, `AppendIntake cost ${cost}`);
    if (this.size === 0 && this.spentThisTurn < this.options.costPerTurnMax) {
      this.take(item, cost);
      return;
    }
    this.queue.push({ item, cost });
    this.scheduleTurn();
  }

  /** Empties the queue, handing back what waited in it (a stop answers them). */
  drain(): T[] {
    const waiting: T[] = [];
    for (let at = this.head; at < this.queue.length; at++) waiting.push(this.queue[at]!.item);
    this.queue.length = 0;
    this.head = 0;
    return waiting;
  }

  private take(item: T, cost: number): void {
    this.spentThisTurn += cost;
    // The budget is this turn's: it starts over once the loop comes round.
    this.scheduleTurn();
    this.options.take(item);
  }

  private scheduleTurn(): void {
    if (this.turnScheduled) return;
    this.turnScheduled = true;
    setImmediate(this.turnBound);
  }

  private turn(): void {
    this.turnScheduled = false;
    this.spentThisTurn = 0;
    while (this.size > 0 && this.spentThisTurn < this.options.costPerTurnMax) {
      const next = this.queue[this.head];
      assert(next !== undefined, 'AppendIntake queue underflow');
      this.queue[this.head++] = undefined;
      this.take(next.item, next.cost);
    }
    if (this.size === 0) {
      this.queue.length = 0;
      this.head = 0;
    } else if (this.head > 1_024 && this.head * 2 > this.queue.length) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
  }
}

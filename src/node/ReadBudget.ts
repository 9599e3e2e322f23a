import { assert } from '../log/assert.js';

/**
 * How much read work one log's replica takes on per second, so a flood of reads or plain replays
 * (each bounded to a page, but with no bound on how many) cannot keep its loop and its NATS
 * connection busy for minutes, and the lease messages behind them late. A token bucket of entry
 * units: a read may start while the bucket is not empty, and then pays for the entries it sent
 * (the bucket may go below zero); refills continuously, at most one second's worth. A plain
 * replay's entry costs more (a NATS message each) than a msgpack read's (a share of one).
 */
export class ReadBudget {
  private units: number;
  private refilledAtMs: number;

  constructor(private readonly options: { readonly unitsPerSecondMax: number; readonly nowMs: () => number }) {
    assert(Number.isSafeInteger(options.unitsPerSecondMax) && options.unitsPerSecondMax >= 1, `ReadBudget unitsPerSecondMax ${options.unitsPerSecondMax}`);
    this.units = options.unitsPerSecondMax;
    this.refilledAtMs = options.nowMs();
  }

  /** Whether a read may start now (refused reads cost nothing). */
  admits(): boolean {
    this.refill();
    return this.units > 0;
  }

  /** A read that started sent `units` worth of entries. */
  spend(units: number): void {
    assert(Number.isFinite(units) && units >= 0, `ReadBudget spend ${units}`);
    this.refill();
    this.units -= units;
  }

  private refill(): void {
    const nowMs = this.options.nowMs();
    const elapsedMs = Math.max(0, nowMs - this.refilledAtMs);
    this.refilledAtMs = nowMs;
    this.units = Math.min(this.options.unitsPerSecondMax, this.units + (elapsedMs * this.options.unitsPerSecondMax) / 1000);
  }
}

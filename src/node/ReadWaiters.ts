/**
 * Long-poll reads that found nothing committed at their offset yet. Bounded: past `waitersMax`
 * a read is answered at once (empty), so streams can never make a replica hold memory without
 * bound. Each waiter is answered when something commits at or past its offset, or at its deadline.
 */
export class ReadWaiters {
  private readonly waiters = new Set<{ from: number; answer: () => void; timer: ReturnType<typeof setTimeout> }>();

  constructor(private readonly waitersMax: number) {}

  get size(): number {
    return this.waiters.size;
  }

  /** Parks a read; returns false when full (the caller answers at once). */
  park(options: { from: number; waitMs: number; answer: () => void }): boolean {
    if (this.waiters.size >= this.waitersMax) return false;
    const waiter = {
      from: options.from,
      answer: options.answer,
      timer: setTimeout(() => {
        this.waiters.delete(waiter);
        options.answer();
      }, options.waitMs),
    };
    this.waiters.add(waiter);
    return true;
  }

  /** Entries up to `offsetNext` are committed: answer every waiter they concern. */
  wake(offsetNext: number): void {
    for (const waiter of this.waiters) {
      if (waiter.from >= offsetNext) continue;
      clearTimeout(waiter.timer);
      this.waiters.delete(waiter);
      waiter.answer();
    }
  }

  /** Answers everyone now (shutdown: they get an empty page and come back elsewhere). */
  drain(): void {
    for (const waiter of this.waiters) {
      clearTimeout(waiter.timer);
      waiter.answer();
    }
    this.waiters.clear();
  }
}

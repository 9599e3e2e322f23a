/** Named counters of what a replica dropped or refused, shown in its status. */
export class Counters {
  private readonly counts = new Map<string, number>();

  drop(reason: string, by = 1): void {
    this.add(`dropped.${reason}`, by);
  }

  add(name: string, by = 1): void {
    this.counts.set(name, (this.counts.get(name) ?? 0) + by);
  }

  snapshot(): Record<string, number> {
    return Object.fromEntries([...this.counts].sort(([a], [b]) => a.localeCompare(b)));
  }
}

import { Observable, type OperatorFunction } from 'rxjs';

/**
 * Releases items strictly in sequence: an item numbered n is emitted only after n-1, and later
 * items wait (at most `heldMax` of them) until the gap closes. A repeated or stale number is an
 * error, as is a gap that outgrows the bound: the pipeline fails loudly instead of reordering.
 */
export function inOrder<T>(options: { sequence: (item: T) => number; next: number; heldMax: number }): OperatorFunction<T, T> {
  return (source) =>
    new Observable<T>((subscriber) => {
      let next = options.next;
      const held = new Map<number, T>();
      return source.subscribe({
        next: (item) => {
          const n = options.sequence(item);
          if (n < next || held.has(n)) {
            subscriber.error(new Error(`inOrder: item ${n} arrived again (next is ${next})`));
            return;
          }
          held.set(n, item);
          for (let ready = held.get(next); ready !== undefined; ready = held.get(next)) {
            held.delete(next);
            next++;
            subscriber.next(ready);
          }
          if (held.size > options.heldMax) subscriber.error(new Error(`inOrder: ${held.size} items held waiting for ${next}`));
        },
        error: (error: unknown) => subscriber.error(error),
        complete: () => subscriber.complete(),
      });
    });
}

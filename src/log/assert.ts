/**
 * Invariant checks for the pure core. A broken invariant is a bug, never an operating error:
 * it throws an InvariantError, which the driver treats as fatal for the replica.
 */
export class InvariantError extends Error {
  override readonly name = 'InvariantError';
}

export function assert(condition: boolean, message: string): asserts condition {
  if (!condition) throw new InvariantError(message);
}

/**
 * A broken invariant, for a check on a per-entry path written `if (!condition) fail(...)`: unlike
 * assert's, the message is only built when it fails (a template string per entry is measurable).
 */
export function fail(message: string): never {
  throw new InvariantError(message);
}

export function unreachable(value: never): never {
  throw new InvariantError(`unreachable: ${JSON.stringify(value)}`);
}

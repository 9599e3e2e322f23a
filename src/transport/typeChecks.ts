/**
 * Type-level helpers that make a schema and the TypeScript type it mirrors fail to compile when
 * they drift apart. They exist only at compile time.
 */

/** Drops `readonly` all the way down (readonly arrays are not assignable to zod's mutable ones). */
export type Writable<T> = T extends Uint8Array
  ? T
  : T extends ReadonlyArray<infer U>
    ? Writable<U>[]
    : T extends object
      ? { -readonly [K in keyof T]: Writable<T[K]> }
      : T;

export type Assignable<From, To> = [From] extends [To] ? true : false;

/** `Holds<Assignable<A, B>>` compiles only when A is assignable to B. */
export type Holds<T extends true> = T;

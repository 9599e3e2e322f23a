import { assert } from './assert.js';

/**
 * The only source of randomness the pure cores see. The driver seeds it from the OS; the
 * simulator seeds it from the run's seed, so a seed replays exactly.
 */
export interface Random {
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [min, max], both inclusive. */
  int(min: number, max: number): number;
}

/** SplitMix32-style generator: small, fast and good enough for scheduling decisions. */
export class SeededRandom implements Random {
  private state: number;

  constructor(seed: number) {
    assert(Number.isSafeInteger(seed), `seed must be an integer, got ${seed}`);
    this.state = (seed ^ 0x9e3779b9) >>> 0;
  }

  next(): number {
    this.state = (this.state + 0x9e3779b9) >>> 0;
    let z = this.state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    z = (z ^ (z >>> 16)) >>> 0;
    return z / 0x1_0000_0000;
  }

  int(min: number, max: number): number {
    assert(Number.isSafeInteger(min) && Number.isSafeInteger(max) && min <= max, `int(${min}, ${max})`);
    return min + Math.floor(this.next() * (max - min + 1));
  }

  /** A child generator with its own stream, so adding a consumer does not shift the others. */
  fork(): SeededRandom {
    return new SeededRandom(Math.floor(this.next() * 0x7fff_ffff));
  }
}

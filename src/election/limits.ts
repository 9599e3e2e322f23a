import { assert } from '../log/assert.js';

/**
 * PaxosLease timing, in ticks of each replica's own clock. The tick length is the driver's
 * (10 ms by default), and every clock may run fast or slow by at most `driftRatioMax`.
 */
export interface LeaseLimits {
  /** How long an acceptor keeps a lease it accepted: the maximum lease time M. */
  readonly leaseTicks: number;
  /** The bound on clock rate error the lease timing assumes, as a ratio (0.05 = 5%). */
  readonly driftRatioMax: number;
  /** A round (Phase 1 and Phase 2 together) that has not succeeded by then is abandoned. */
  readonly roundTicks: number;
  /** Random back-off after a failed round, between 1 and this many ticks. */
  readonly backoffTicksMax: number;
  /**
   * A candidate (not a renewing holder) waits this long for every replica's answer before it
   * proposes itself, so it hears of a more up-to-date replica that is alive and defers to it.
   */
  readonly gatherTicks: number;
}

/**
 * `roundTicks` is 55 (550 ms): under a burst of large appends a renewal round (four hops, each
 * waiting out a turn of a busy replica's loop) took 390-500 ms, and at 40 every round of a
 * renewal timed out and the holder lapsed in 3 of 6 bursts; at 55, in none of 6
 * (docs/BENCHMARKS.md, "Overload: a burst of large appends"). Two such rounds still fit in the
 * renewal's 119 ticks.
 */
export const leaseLimitsDefault: LeaseLimits = Object.freeze({
  leaseTicks: 200,
  driftRatioMax: 0.05,
  roundTicks: 55,
  backoffTicksMax: 20,
  gatherTicks: 3,
});

/** The timings derived from the limits; see docs/ARCHITECTURE.md, "Lease timing". */
export interface LeaseTiming {
  readonly limits: LeaseLimits;
  /**
   * How long the holder believes in its lease, counted from before its prepare left. Its real
   * length, on a clock running slow by the whole bound and losing up to one tick to quantisation,
   * stays below the shortest real length of any acceptor's `leaseTicks` on a fast clock.
   */
  readonly holderTicks: number;
  /** A holder renews once this many ticks of its lease are left (two thirds): well before expiry. */
  readonly renewTicksLeft: number;
  /** A restarted acceptor stays silent this long, so every lease it granted before has expired. */
  readonly restartWaitTicks: number;
}

export function leaseTiming(limits: LeaseLimits): LeaseTiming {
  assert(Number.isSafeInteger(limits.leaseTicks) && limits.leaseTicks >= 10, 'leaseTicks must be at least 10');
  assert(limits.driftRatioMax >= 0 && limits.driftRatioMax < 0.5, 'driftRatioMax must be in [0, 0.5)');
  assert(Number.isSafeInteger(limits.roundTicks) && limits.roundTicks >= 2, 'roundTicks must be at least 2');
  assert(Number.isSafeInteger(limits.backoffTicksMax) && limits.backoffTicksMax >= 1, 'backoffTicksMax must be at least 1');
  assert(Number.isSafeInteger(limits.gatherTicks) && limits.gatherTicks >= 0 && limits.gatherTicks < limits.roundTicks, 'gatherTicks must be in [0, roundTicks)');
  const rho = limits.driftRatioMax;
  const holderTicks = Math.floor(((limits.leaseTicks - 1) * (1 - rho)) / (1 + rho)) - 1;
  const renewTicksLeft = Math.floor((holderTicks * 2) / 3);
  assert(holderTicks >= 4, 'leaseTicks too short for driftRatioMax');
  assert(renewTicksLeft > 2 * limits.roundTicks, 'renewal must leave room for two rounds before expiry');
  return { limits, holderTicks, renewTicksLeft, restartWaitTicks: limits.leaseTicks + 1 };
}

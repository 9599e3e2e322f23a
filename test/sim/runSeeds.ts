import { canaries, type CanaryName } from './canaries.js';
import { type SimOptions, type SimResult, Simulation } from './Simulation.js';

export interface SeedsSummary {
  seeds: number;
  violations: number;
  firstViolation: SimResult | null;
  committedEntries: number;
  crashes: number;
  partitions: number;
  contentions: number;
  wipes: number;
  snapshots: number;
  leaseOverlaps: number;
  seedsWithLeaseOverlap: number;
  failoverMs: number[];
}

export interface SeedsOptions {
  from: number;
  seeds: number;
  replicas?: number;
  canary?: CanaryName;
  election?: boolean;
  duel?: boolean;
  driftBeyondBound?: boolean;
  wan?: boolean;
  duelElection?: boolean;
  failover?: 'crash' | 'release';
  wipes?: boolean;
}

export function replayCommand(options: SeedsOptions & { seed: number }): string {
  const flags = [`--from ${options.seed}`, '--seeds 1'];
  if (options.replicas !== undefined) flags.push(`--replicas ${options.replicas}`);
  if (options.canary !== undefined) flags.push(`--canary ${options.canary}`);
  if (options.election === false) flags.push('--no-election');
  if (options.duel === true) flags.push('--duel');
  if (options.driftBeyondBound === true) flags.push('--drift-beyond-bound');
  if (options.wan === true) flags.push('--wan');
  if (options.duelElection === true) flags.push('--duel-election');
  if (options.failover !== undefined) flags.push(`--failover ${options.failover}`);
  if (options.wipes === true) flags.push('--wipes');
  return `npm run sim -- ${flags.join(' ')}`;
}

function simOptions(options: SeedsOptions, seed: number): SimOptions {
  return {
    seed,
    ...(options.replicas === undefined ? {} : { replicas: options.replicas }),
    ...(options.canary === undefined ? {} : { make: canaries[options.canary] }),
    ...(options.election === undefined ? {} : { election: options.election }),
    ...(options.duel === true ? { duel: true } : {}),
    ...(options.driftBeyondBound === true ? { driftBeyondBound: true } : {}),
    ...(options.wipes === true ? { wipes: true } : {}),
    ...(options.wan === true ? { wan: true } : {}),
    ...(options.duelElection === true ? { duelElection: true } : {}),
    ...(options.failover === undefined ? {} : { failover: options.failover }),
  };
}

/** Runs seeds from..from+seeds-1. Stops at the first violation when `stopAtViolation`. */
export function runSeeds(
  options: SeedsOptions & { stopAtViolation?: boolean; onViolation?: (result: SimResult, replay: string) => void },
): SeedsSummary {
  const summary: SeedsSummary = {
    seeds: 0, violations: 0, firstViolation: null, committedEntries: 0, crashes: 0, partitions: 0, contentions: 0, wipes: 0, snapshots: 0, leaseOverlaps: 0, seedsWithLeaseOverlap: 0, failoverMs: [],
  };
  for (let seed = options.from; seed < options.from + options.seeds; seed++) {
    const result = new Simulation(simOptions(options, seed)).run();
    summary.seeds++;
    summary.committedEntries += result.committedEntries;
    summary.crashes += result.crashes;
    summary.partitions += result.partitions;
    summary.contentions += result.contentions;
    summary.wipes += result.wipes;
    summary.snapshots += result.snapshots;
    summary.leaseOverlaps += result.leaseOverlaps;
    if (result.leaseOverlaps > 0) summary.seedsWithLeaseOverlap++;
    if (result.failoverMs !== null) summary.failoverMs.push(result.failoverMs);
    if (result.violation !== null) {
      summary.violations++;
      summary.firstViolation ??= result;
      options.onViolation?.(result, replayCommand({ ...options, seed }));
      if (options.stopAtViolation === true) break;
    }
  }
  return summary;
}

/** p50, p99 and max of a sample, in the sample's unit. */
export function distribution(sample: readonly number[]): { p50: number; p99: number; max: number; count: number } {
  const sorted = [...sample].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
  return { p50: at(0.5), p99: at(0.99), max: sorted[sorted.length - 1] ?? Number.NaN, count: sorted.length };
}

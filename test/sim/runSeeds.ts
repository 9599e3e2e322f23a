import { canaries, type CanaryName } from './canaries.js';
import { type SimResult, Simulation } from './Simulation.js';

export interface SeedsSummary {
  seeds: number;
  violations: number;
  firstViolation: SimResult | null;
  committedEntries: number;
  crashes: number;
  partitions: number;
  contentions: number;
}

export function replayCommand(options: { seed: number; replicas?: number; canary?: CanaryName; duel?: boolean }): string {
  const replicas = options.replicas === undefined ? '' : ` --replicas ${options.replicas}`;
  const canary = options.canary === undefined ? '' : ` --canary ${options.canary}`;
  const duel = options.duel === true ? ' --duel' : '';
  return `npm run sim -- --from ${options.seed} --seeds 1${replicas}${canary}${duel}`;
}

/** Runs seeds from..from+seeds-1. Stops at the first violation when `stopAtViolation`. */
export function runSeeds(options: {
  from: number;
  seeds: number;
  replicas?: number;
  canary?: CanaryName;
  duel?: boolean;
  stopAtViolation?: boolean;
  onViolation?: (result: SimResult, replay: string) => void;
}): SeedsSummary {
  const summary: SeedsSummary = { seeds: 0, violations: 0, firstViolation: null, committedEntries: 0, crashes: 0, partitions: 0, contentions: 0 };
  for (let seed = options.from; seed < options.from + options.seeds; seed++) {
    const simulation = new Simulation({
      seed,
      ...(options.replicas === undefined ? {} : { replicas: options.replicas }),
      ...(options.canary === undefined ? {} : { makeCore: canaries[options.canary] }),
      ...(options.duel === true ? { duel: true } : {}),
    });
    const result = simulation.run();
    summary.seeds++;
    summary.committedEntries += result.committedEntries;
    summary.crashes += result.crashes;
    summary.partitions += result.partitions;
    summary.contentions += result.contentions;
    if (result.violation !== null) {
      summary.violations++;
      summary.firstViolation ??= result;
      const replay = replayCommand({ ...options, seed });
      options.onViolation?.(result, replay);
      if (options.stopAtViolation === true) break;
    }
  }
  return summary;
}

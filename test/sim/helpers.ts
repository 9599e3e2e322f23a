import type { SimResult } from './Simulation.js';

/** Collects violations as printable lines: the seed, what broke and the command that replays it. */
export function violationLog(): { lines: string[]; onViolation: (result: SimResult, replay: string) => void } {
  const lines: string[] = [];
  return { lines, onViolation: (result, replay) => lines.push(`seed ${result.seed}: ${result.violation}\n  replay: ${replay}`) };
}

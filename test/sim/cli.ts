import { performance } from 'node:perf_hooks';
import { canaries, type CanaryName } from './canaries.js';
import { runSeeds } from './runSeeds.js';

function flag(name: string): string | undefined {
  const at = process.argv.indexOf(`--${name}`);
  return at < 0 ? undefined : process.argv[at + 1];
}

const seeds = Number(flag('seeds') ?? '200');
const from = Number(flag('from') ?? '1');
const replicasText = flag('replicas');
const canary = flag('canary') as CanaryName | undefined;
if (!Number.isSafeInteger(seeds) || seeds < 1 || !Number.isSafeInteger(from)) {
  console.error('usage: npm run sim -- --seeds N [--from S] [--replicas 3|5] [--canary NAME] [--duel]');
  process.exit(2);
}
if (canary !== undefined && !(canary in canaries)) {
  console.error(`unknown canary ${canary}; one of: ${Object.keys(canaries).join(', ')}`);
  process.exit(2);
}

const started = performance.now();
const summary = runSeeds({
  from,
  seeds,
  ...(replicasText === undefined ? {} : { replicas: Number(replicasText) }),
  ...(canary === undefined ? {} : { canary }),
  ...(process.argv.includes('--duel') ? { duel: true } : {}),
  onViolation: (result, replay) => console.log(`seed ${result.seed} (${result.replicas} replicas): ${result.violation}\n  replay: ${replay}`),
});
const seconds = (performance.now() - started) / 1000;
console.log(
  `${summary.seeds} seeds from ${from}: ${summary.violations} violations; ` +
    `${summary.committedEntries} entries committed, ${summary.crashes} crashes, ${summary.partitions} partitions, ` +
    `${summary.contentions} forced contentions; ${(summary.seeds / seconds).toFixed(1)} seeds/s`,
);
process.exit(summary.violations === 0 ? 0 : 1);

import { performance } from 'node:perf_hooks';
import { leaseLimitsDefault } from '../../src/election/limits.js';
import { canaries, type CanaryName } from './canaries.js';
import { distribution, runSeeds, type SeedsOptions } from './runSeeds.js';
import { simTickMs } from './Simulation.js';

const usage =
  'usage: npm run sim -- --seeds N [--from S] [--replicas 3|5] [--canary NAME] [--no-election] [--duel] ' +
  '[--drift-beyond-bound] [--wan] [--duel-election] [--wipes] [--failover crash|release] [--failover-seeds K]';

function flag(name: string): string | undefined {
  const at = process.argv.indexOf(`--${name}`);
  return at < 0 ? undefined : process.argv[at + 1];
}

function fail(message: string): never {
  console.error(`${message}\n${usage}`);
  process.exit(2);
}

const seeds = Number(flag('seeds') ?? '200');
const from = Number(flag('from') ?? '1');
if (!Number.isSafeInteger(seeds) || seeds < 1 || !Number.isSafeInteger(from)) fail('--seeds and --from take integers');
const canary = flag('canary');
if (canary !== undefined && !(canary in canaries)) fail(`unknown canary ${canary}; one of: ${Object.keys(canaries).join(', ')}`);
const failover = flag('failover');
if (failover !== undefined && failover !== 'crash' && failover !== 'release') fail('--failover takes crash or release');
const replicas = flag('replicas');

const options: SeedsOptions = {
  from,
  seeds,
  ...(replicas === undefined ? {} : { replicas: Number(replicas) }),
  ...(canary === undefined ? {} : { canary: canary as CanaryName }),
  ...(process.argv.includes('--no-election') ? { election: false } : {}),
  ...(process.argv.includes('--duel') ? { duel: true } : {}),
  ...(process.argv.includes('--drift-beyond-bound') ? { driftBeyondBound: true } : {}),
  ...(process.argv.includes('--wan') ? { wan: true } : {}),
  ...(process.argv.includes('--duel-election') ? { duelElection: true } : {}),
  ...(process.argv.includes('--wipes') ? { wipes: true } : {}),
  ...(failover === undefined ? {} : { failover }),
};

const started = performance.now();
const summary = runSeeds({
  ...options,
  onViolation: (result, replay) => console.log(`seed ${result.seed} (${result.replicas} replicas): ${result.violation}\n  replay: ${replay}`),
});
const seconds = (performance.now() - started) / 1000;
console.log(
  `${summary.seeds} seeds from ${from}: ${summary.violations} violations; ` +
    `${summary.committedEntries} entries committed, ${summary.crashes} crashes, ${summary.partitions} partitions, ` +
    `${summary.contentions} forced contentions, ${summary.wipes} disks lost, ${summary.snapshots} snapshots installed, ` +
    `lease overlaps in ${summary.seedsWithLeaseOverlap} seeds; ${(summary.seeds / seconds).toFixed(1)} seeds/s`,
);

let violations = summary.violations;
if (failover === undefined && options.election !== false && canary === undefined && options.duelElection !== true && options.driftBeyondBound !== true) {
  const failoverSeeds = Number(flag('failover-seeds') ?? String(Math.min(seeds, 500)));
  const leaseMs = leaseLimitsDefault.leaseTicks * simTickMs;
  console.log(`failover, ${failoverSeeds} seeds each, lease ${leaseMs} ms, tick ${simTickMs} ms (simulated ms):`);
  for (const kind of ['crash', 'release'] as const) {
    const measured = runSeeds({ ...options, seeds: failoverSeeds, failover: kind });
    violations += measured.violations;
    const d = distribution(measured.failoverMs);
    console.log(`  ${kind.padEnd(7)} holder -> new holder serving: p50 ${d.p50.toFixed(0)}, p99 ${d.p99.toFixed(0)}, max ${d.max.toFixed(0)} (${d.count} runs, ${measured.violations} violations)`);
  }
} else if (summary.failoverMs.length > 0) {
  const d = distribution(summary.failoverMs);
  console.log(`failover (${failover}): p50 ${d.p50.toFixed(0)}, p99 ${d.p99.toFixed(0)}, max ${d.max.toFixed(0)} simulated ms over ${d.count} runs`);
}
process.exit(violations === 0 ? 0 : 1);

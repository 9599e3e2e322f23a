import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type CanaryName } from './canaries.js';
import { runSeeds, type SeedsOptions } from './runSeeds.js';

/** Each canary runs in the mode whose check it breaks; all must be caught within 1000 seeds. */
const cases: Array<[CanaryName, Omit<SeedsOptions, 'from' | 'seeds' | 'canary'>]> = [
  ['promise-not-persisted', {}],
  ['accept-below-promise', {}],
  ['accept-not-persisted', {}],
  ['accept-unsynced', {}],
  ['votes-leave-early', {}],
  ['rebuild-votes-at-once', { wipes: true }],
  ['learner-out-of-order', {}],
  ['no-restart-wait', {}],
  ['no-backoff', { duelElection: true }],
  ['renewal-skips-phase-1', {}],
];

describe('canaries: deliberately broken cores and elections are caught within 1000 seeds', () => {
  for (const [canary, mode] of cases) {
    it(`catches ${canary}`, () => {
      const summary = runSeeds({ from: 1, seeds: 1000, canary, ...mode, stopAtViolation: true });
      assert.equal(summary.violations, 1, `${canary} survived ${summary.seeds} seeds`);
      const first = summary.firstViolation;
      assert.ok(first !== null);
      console.log(`${canary}: caught at seed ${first.seed}: ${first.violation?.slice(0, 120)}`);
      const replay = runSeeds({ from: first.seed, seeds: 1, canary, ...mode });
      assert.equal(replay.firstViolation?.violation, first.violation, 'the printed seed replays the same failure');
    });
  }
});

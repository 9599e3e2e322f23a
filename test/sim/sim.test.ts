import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type CanaryName } from './canaries.js';
import { runSeeds } from './runSeeds.js';

const report = (lines: string[]) => (result: { seed: number; violation: string | null }, replay: string) =>
  lines.push(`seed ${result.seed}: ${result.violation}\n  replay: ${replay}`);

describe('simulator: whole clusters under loss, duplication, reordering, partitions, crashes and contention', () => {
  for (const replicas of [3, 5]) {
    it(`1000 seeds of ${replicas}-replica clusters end with no violation`, () => {
      const failures: string[] = [];
      const from = replicas === 3 ? 1 : 100_001;
      const summary = runSeeds({ from, seeds: 1000, replicas, onViolation: report(failures) });
      assert.equal(summary.seeds, 1000);
      assert.ok(summary.crashes > 0 && summary.partitions > 0 && summary.contentions > 0, 'faults were injected');
      assert.ok(summary.committedEntries > 10_000, `entries committed: ${summary.committedEntries}`);
      assert.deepEqual(failures, []);
    });
  }

  it('300 seeds of dueling proposers (a forced campaign every 10-60 ms) never choose two values', () => {
    const failures: string[] = [];
    const summary = runSeeds({ from: 200_001, seeds: 300, duel: true, onViolation: report(failures) });
    assert.ok(summary.contentions > 300 * 20, `contentions: ${summary.contentions}`);
    assert.deepEqual(failures, []);
  });

  it('replays a seed exactly', () => {
    const first = runSeeds({ from: 4242, seeds: 1 });
    const again = runSeeds({ from: 4242, seeds: 1 });
    assert.deepEqual(first, again);
  });
});

describe('canaries: deliberately broken cores are caught within 1000 seeds', () => {
  const names: CanaryName[] = ['promise-not-persisted', 'accept-below-promise', 'learner-out-of-order'];
  for (const canary of names) {
    it(`catches ${canary}`, () => {
      const summary = runSeeds({ from: 1, seeds: 1000, canary, stopAtViolation: true });
      assert.equal(summary.violations, 1, `${canary} survived ${summary.seeds} seeds`);
      const seed = summary.firstViolation?.seed;
      assert.ok(seed !== undefined);
      const replay = runSeeds({ from: seed, seeds: 1, canary });
      assert.equal(replay.firstViolation?.violation, summary.firstViolation?.violation, 'the printed seed replays the same failure');
    });
  }
});

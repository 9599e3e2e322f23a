import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { violationLog } from './helpers.js';
import { runSeeds } from './runSeeds.js';

describe('simulator, election and log together: 5-replica clusters', () => {
  it('1000 seeds of loss, duplication, reordering, partitions, crashes, clean stops, drift and contention end with no violation', () => {
    const log = violationLog();
    const summary = runSeeds({ from: 100001, seeds: 1000, replicas: 5, onViolation: log.onViolation });
    assert.equal(summary.seeds, 1000);
    assert.ok(summary.crashes > 1000 && summary.partitions > 1000 && summary.contentions > 500, 'faults were injected');
    assert.ok(summary.committedEntries > 50_000, `entries committed: ${summary.committedEntries}`);
    assert.equal(summary.seedsWithLeaseOverlap, 0, 'with drift inside the bound, no two replicas ever hold the lease at once');
    assert.deepEqual(log.lines, []);
  });
});

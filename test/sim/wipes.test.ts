import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { violationLog } from './helpers.js';
import { runSeeds } from './runSeeds.js';

describe('simulator, lost disks, compaction and snapshot installs', () => {
  it('600 seeds of chaos in which disks are lost, records are compacted and snapshots installed end with no violation', () => {
    const log = violationLog();
    const summary = runSeeds({ from: 1, seeds: 600, wipes: true, onViolation: log.onViolation });
    assert.equal(summary.seeds, 600);
    assert.ok(summary.wipes > 300, `disks lost: ${summary.wipes}`);
    assert.ok(summary.snapshots > 1000, `snapshots installed: ${summary.snapshots}`);
    assert.ok(summary.committedEntries > 30_000, `entries committed: ${summary.committedEntries}`);
    assert.deepEqual(log.lines, []);
  });
});

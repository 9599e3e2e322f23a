import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { progressLine, retentionMismatchLine, statusTable } from '../../src/cli/statusCommand.js';

describe('paxlog status: catch-up progress bars and warnings', () => {
  it('draws a snapshot transfer by bytes and a log transfer by instances; nothing when caught up', () => {
    const snapshot = progressLine({ id: 2, committedInstance: 10, catchUp: { state: 'snapshot', instancesBehind: 900, instancesPerSec: 0, snapshot: { source: 1, bytesDone: 25e6, bytesTotal: 100e6, bytesPerSec: 50e6 } } });
    assert.equal(snapshot, `replica 2 installing a snapshot from 1: [${'#'.repeat(8)}${'.'.repeat(22)}]  25% 25.0 MB of 100.0 MB, 50.0 MB/s`);
    const log = progressLine({ id: 3, committedInstance: 300, catchUp: { state: 'log', instancesBehind: 100, instancesPerSec: 5000, fetchPeer: 1 } });
    assert.equal(log, `replica 3 fetching the log from 1: [${'#'.repeat(23)}${'.'.repeat(7)}]  75% 100 instances behind, 5000 instances/s`);
    assert.equal(progressLine({ id: 1, catchUp: { state: 'caught-up', instancesBehind: 0 } }), null);
    const table = statusTable([{ id: 1, serving: true, rebuilding: null, committedInstance: 400 }, { id: 3, rebuilding: { floor: null }, committedInstance: 300, catchUp: { state: 'log', instancesBehind: 100, instancesPerSec: 1, fetchPeer: 1 } }]);
    assert.match(table, /^3\s+no\s+rebuilding/m);
    assert.match(table, /replica 3 fetching the log from 1/);
  });

  it('warns when the replicas run different retention policies, and only then', () => {
    const same = [{ id: 1, retention: 'keep at most 1000 entries' }, { id: 2, retention: 'keep at most 1000 entries' }, { id: 3 }];
    assert.equal(retentionMismatchLine(same), null);
    assert.doesNotMatch(statusTable(same), /warning/);
    const differ = [{ id: 1, retention: 'keep all' }, { id: 2, retention: 'keep at most 1000 entries' }];
    const warning = 'warning: the replicas run different retention policies (replica 1: keep all; replica 2: keep at most 1000 entries); give every replica the same --retain-* flags';
    assert.equal(retentionMismatchLine(differ), warning);
    assert.equal(statusTable(differ).split('\n').at(-1), warning);
  });
});

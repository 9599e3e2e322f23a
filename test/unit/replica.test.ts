import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { entry } from '../helpers/TestCluster.js';
import { ReplicaNet, replicaNetLease } from '../helpers/ReplicaNet.js';

describe('Replica: Multi-Paxos led by PaxosLease', () => {
  it('the lease holder runs Phase 1 once and serves; followers redirect to it', () => {
    const net = new ReplicaNet(3);
    const leader = net.leader();
    assert.equal(net.replica(leader).status().lease?.isHolder, true);
    const follower = leader === 1 ? 2 : 1;
    const refused = net.propose(follower, [entry('x')]);
    assert.deepEqual(net.node(follower).outcomes.get(refused), { proposalId: refused, status: 'failed', reason: 'not-leader', leaderHint: leader });
    const ballot = net.replica(leader).status().ballot;
    for (let i = 0; i < 20; i++) net.propose(leader, [entry(`e${i}`)]);
    net.tick(3 * replicaNetLease.leaseTicks);
    assert.deepEqual(net.replica(leader).status().ballot, ballot, 'renewals keep the same Paxos ballot: no new Phase 1');
    assert.equal(net.replica(leader).status().committedInstance, 20);
  });

  it('a leader that loses its lease stops proposing and fails its queued requests with not-leader', () => {
    const net = new ReplicaNet(3);
    const leader = net.leader();
    net.isolate(leader);
    net.tickUntil(() => !net.replica(leader).isLeaseHolder, 2 * replicaNetLease.leaseTicks);
    assert.equal(net.replica(leader).status().phase, 'follower');
    const id = net.propose(leader, [entry('late')]);
    assert.equal(net.node(leader).outcomes.get(id)?.status, 'failed');
    net.heal();
    const next = net.leader(4 * replicaNetLease.leaseTicks);
    net.propose(next, [entry('after')]);
    net.tick(5);
    const logs = [...net.nodes.values()].map((n) => n.fsm.entries.map((e) => e.id));
    assert.ok(logs.every((log) => log.at(-1) === 'after'));
  });

  it('a restarted former leader holds nothing; it must win a lease like anyone', () => {
    const net = new ReplicaNet(3);
    const leader = net.leader();
    net.propose(leader, [entry('a')]);
    net.down.add(leader);
    net.start(leader);
    assert.equal(net.replica(leader).isServing, false);
    assert.equal(net.replica(leader).isLeaseHolder, false);
    const id = net.propose(leader, [entry('b')]);
    assert.equal(net.node(leader).outcomes.get(id)?.status, 'failed');
  });

  it('cold start with data: a replica whose log is behind never becomes leader', () => {
    for (const behind of [1, 2, 3]) {
      const net = new ReplicaNet(3);
      net.leader();
      net.isolate(behind);
      net.tickUntil(() => net.serving().some((id) => id !== behind), 4 * replicaNetLease.leaseTicks);
      const leader = net.serving().find((id) => id !== behind)!;
      for (let i = 0; i < 5; i++) net.propose(leader, [entry(`e${i}`)]);
      assert.equal(net.replica(behind).status().committedInstance, 0);
      for (const id of [1, 2, 3]) net.down.add(id);
      net.heal();
      for (const id of [1, 2, 3]) net.start(id);
      const winner = net.leader(6 * replicaNetLease.leaseTicks);
      assert.notEqual(winner, behind, `replica ${behind} is behind and must not win`);
      assert.equal(net.replica(winner).status().committedInstance, 5);
    }
  });
});

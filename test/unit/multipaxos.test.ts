import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ballotCompare } from '../../src/log/ballot.js';
import { Rebuild } from '../../src/log/Rebuild.js';
import type { Envelope } from '../../src/log/messages.js';
import type { Entry } from '../../src/log/types.js';
import { entry, TestCluster } from '../helpers/TestCluster.js';

function leaderOf(cluster: TestCluster, id = 1): TestCluster {
  cluster.core(id).campaign();
  cluster.settle();
  assert.equal(cluster.core(id).status().phase, 'leading');
  return cluster;
}

/** Twenty instances chosen, then replica 3's disk lost: it rebuilds, its floor known. */
function wipedAfterTwenty(): TestCluster {
  const cluster = leaderOf(new TestCluster(3, { inflightInstancesMax: 4, acceptAheadInstancesMax: 8 }));
  for (let i = 0; i < 20; i++) cluster.propose(1, [entry(`a${i}`)]);
  cluster.settle();
  cluster.wipe(3);
  cluster.tick(2);
  assert.deepEqual(cluster.core(3).status().rebuilding, { floor: 28, answers: 2 }, 'floor = highest accepted (20) + acceptAhead (8)');
  return cluster;
}

function assertLogsAgree(cluster: TestCluster): string[] {
  const logs = [...cluster.logs().values()];
  const longest = logs.reduce((a, b) => (b.length > a.length ? b : a), []);
  for (const log of logs) assert.deepEqual(log, longest.slice(0, log.length));
  return longest;
}

describe('MultiPaxos core', () => {
  it('persists the promise in the same Ready as the reply, so the reply leaves after the write', () => {
    const cluster = new TestCluster(3);
    cluster.core(1).campaign();
    const prepares = cluster.takeQueued().filter((q) => q.envelope.message.type === 'prepare');
    const toTwo = prepares.find((q) => q.envelope.to === 2);
    assert.ok(toTwo);
    cluster.core(2).step(toTwo.envelope.message);
    const ready = cluster.core(2).ready();
    assert.ok(ready.hardState !== null && ballotCompare(ready.hardState.promised, cluster.core(1).status().ballot!) === 0);
    assert.deepEqual(ready.messages.map((m) => m.message.type), ['promise']);
  });

  it('runs Phase 1 once per leadership, then only Phase 2 for every later instance', () => {
    const cluster = leaderOf(new TestCluster(3));
    const preparesAfterElection = cluster.countSent('prepare');
    for (let i = 0; i < 50; i++) cluster.propose(1, [entry(`e${i}`)]);
    cluster.settle();
    assert.equal(cluster.countSent('prepare'), preparesAfterElection, 'no prepare after the first');
    assert.equal(preparesAfterElection, 3, 'one prepare to each replica');
    assert.equal(cluster.core(1).committedInstance, 50);
    assert.equal(assertLogsAgree(cluster).length, 50);
  });

  it("a leader's own accept, stepped after its followers chose the instance, sends it nothing; another sender's late accept gets the chosen value", () => {
    const cluster = leaderOf(new TestCluster(3));
    cluster.propose(1, [entry('a')]);
    const queued = cluster.takeQueued();
    const own = queued.find((q) => q.envelope.to === 1 && q.envelope.message.type === 'accept');
    assert.ok(own, 'the leader sends its own acceptor the accept too');
    // The leader's own accept waits (a backlog in its inbox); the followers accept and answer.
    for (const q of queued) if (q !== own) cluster.deliver(q.envelope);
    for (const q of cluster.takeQueued()) cluster.deliver(q.envelope);
    assert.equal(cluster.core(1).committedInstance, 1, 'chosen by the two followers');
    cluster.takeQueued();
    cluster.deliver(own.envelope);
    const fetched = (queue: ReturnType<TestCluster['takeQueued']>) => queue.filter((q) => q.envelope.message.type === 'fetched');
    assert.deepEqual(fetched(cluster.takeQueued()), [], 'no values sent back to itself');
    // The same late accept from replica 2 (its ballot is the leader's, as a retransmission carries).
    cluster.deliver({ to: 1, message: { ...own.envelope.message, from: 2 } as Envelope['message'] });
    const toTwo = fetched(cluster.takeQueued());
    assert.equal(toTwo.length, 1);
    assert.equal(toTwo[0]!.envelope.to, 2);
    const answer = toTwo[0]!.envelope.message;
    assert.ok(answer.type === 'fetched');
    assert.deepEqual(answer.values.map((v) => v.instance), [1]);
    assert.equal(assertLogsAgree(cluster).length, 1);
  });

  it('pipelines: accepts for a whole window leave before the first instance is chosen', () => {
    const cluster = leaderOf(new TestCluster(3, { inflightInstancesMax: 4 }));
    for (let i = 0; i < 6; i++) cluster.propose(1, [entry(`e${i}`)]);
    const queued = cluster.takeQueued();
    const accepts = queued.filter((q) => q.envelope.message.type === 'accept');
    const instances = new Set(accepts.map((q) => (q.envelope.message as { instance: number }).instance));
    assert.deepEqual([...instances].sort(), [1, 2, 3, 4], 'window of 4 in flight, the other 2 wait');
    assert.equal(cluster.core(1).status().inflightInstances, 4);
    assert.equal(cluster.core(1).status().queuedProposals, 2);
  });

  it('starts at most readyAcceptBytesMax of new batches per Ready (at least one); the rest follow in the next Readys', () => {
    const cluster = leaderOf(new TestCluster(3, { batchBytesMax: 4096, readyAcceptBytesMax: 4096 }));
    const readiesBefore = cluster.readies.length;
    const big = (name: string): Entry => ({ id: name, data: new Uint8Array(1400) });
    for (let i = 0; i < 6; i++) cluster.propose(1, [big(`b${i}`)]);
    assert.equal(cluster.core(1).status().queuedProposals, 4, 'two batches of about 1.5 KB fit in 4 KB');
    cluster.flush();
    const leaderReadies = cluster.readies.slice(readiesBefore).filter((r) => r.replica === 1);
    const perReady = leaderReadies
      .map((r) => new Set(r.ready.messagesEarly.filter((e) => e.message.type === 'accept').map((e) => (e.message as { instance: number }).instance)).size)
      .filter((n) => n > 0);
    assert.deepEqual(perReady, [2, 2, 2], 'each Ready started two batches');
    cluster.settle();
    assert.deepEqual(assertLogsAgree(cluster), ['0:b0', '1:b1', '2:b2', '3:b3', '4:b4', '5:b5']);
  });

  it('sends an unanswered accept again after acceptRetryTicks, then backs off twice as long each time up to acceptRetryTicksMax', () => {
    const cluster = leaderOf(new TestCluster(3, { acceptRetryTicks: 10, acceptRetryTicksMax: 80 }));
    let tickNow = 0;
    const sentAtTicks: number[] = [];
    cluster.dropIf = (_from, envelope) => {
      if (envelope.message.type !== 'accept' || envelope.to === 1) return false;
      if (envelope.to === 2) sentAtTicks.push(tickNow);
      return true;
    };
    cluster.propose(1, [entry('lost')]);
    cluster.settle();
    for (tickNow = 1; tickNow <= 400; tickNow++) cluster.tick();
    const gaps = sentAtTicks.slice(1).map((at, index) => at - sentAtTicks[index]!);
    assert.deepEqual(gaps, [10, 20, 40, 80, 80, 80, 80], `accepts to replica 2 at ticks ${sentAtTicks.join(', ')}`);
    cluster.dropIf = null;
    cluster.tick(80);
    assert.equal(cluster.core(1).committedInstance, 1, 'the retransmission gets through once the loss ends');
    assert.equal(assertLogsAgree(cluster).length, 1);
  });

  it('names one tail publisher in its commit notices: a follower it hears from, another once that one falls silent', () => {
    const publishers = (cluster: TestCluster): number[] => cluster.peers.filter((id) => cluster.core(id).isTailPublisher);
    const cluster = leaderOf(new TestCluster(3, { tailPublisherSilenceTicks: 20 }));
    cluster.tick(10);
    assert.deepEqual(publishers(cluster), [1], 'before any follower answered, the leader names itself');
    cluster.propose(1, [entry('a')]);
    cluster.settle();
    assert.deepEqual(publishers(cluster), [2], 'the lowest-id follower that answered');
    cluster.dropIf = (from, envelope) => from === 2 || envelope.to === 2;
    cluster.propose(1, [entry('b')]);
    cluster.tick(5);
    assert.equal(cluster.core(1).committedInstance, 2);
    assert.deepEqual(publishers(cluster), [2], 'not before 2 has been silent for tailPublisherSilenceTicks');
    cluster.tick(20);
    cluster.propose(1, [entry('c')]);
    cluster.settle();
    assert.deepEqual(publishers(cluster).filter((id) => id !== 2), [3], '3 took over; 2, cut off, no longer hears notices');
    assert.equal(cluster.core(1).committedInstance, 3);
    cluster.dropIf = null;
    cluster.tick(100);
    assert.deepEqual(publishers(cluster), [3], 'an idle log keeps its publisher, and 2 hears who it is');
    for (let i = 0; i < 20; i++) cluster.propose(1, [entry(`more-${i}`)]);
    cluster.settle();
    const byInstance = new Map<number, number[]>();
    for (const { instance, replica } of cluster.tailPublished) byInstance.set(instance, [...(byInstance.get(instance) ?? []), replica]);
    assert.deepEqual(byInstance.get(1), [2], 'the first batch: by the follower only, not by the leader too');
    assert.equal(byInstance.has(2), false, 'cut off while named, 2 missed instance 2: a gap the tail allows');
    assert.deepEqual(byInstance.get(3), [3]);
    // After the idle stretch neither follower had been heard lately; the first to answer (2) was named.
    for (let instance = 4; instance <= 23; instance++) assert.deepEqual(byInstance.get(instance), [2], `instance ${instance}: exactly one publisher`);

    const single = leaderOf(new TestCluster(1));
    single.propose(1, [entry('alone')]);
    single.settle();
    assert.deepEqual(publishers(single), [1], 'a single replica publishes its own tail');
  });

  it('hands the tail over between two commit notices, even when a follower steps both before its next Ready', () => {
    const cluster = leaderOf(new TestCluster(3, { tailPublisherSilenceTicks: 20 }));
    cluster.propose(1, [entry('a')]);
    cluster.settle();
    const publishers = () => cluster.peers.filter((id) => cluster.core(id).isTailPublisher);
    assert.deepEqual(publishers(), [2]);
    // The leader stops hearing 2, and every commit notice to 3 is held back.
    const held: Envelope[] = [];
    cluster.dropIf = (from, envelope) => {
      if (envelope.to === 3 && envelope.message.type === 'commit') {
        held.push(envelope);
        return true;
      }
      return from === 2;
    };
    cluster.propose(1, [entry('b')]); // instance 2: announced while 2 is still named
    cluster.settle();
    cluster.tick(25);
    cluster.propose(1, [entry('c')]); // instance 3: announced once 3 is named
    cluster.settle();
    const namedIn = held.map((envelope) => (envelope.message.type === 'commit' ? envelope.message.tailPublisher : 0));
    assert.ok(namedIn.includes(2) && namedIn.includes(3), `the held notices name 2, then 3: ${namedIn.join(', ')}`);
    assert.equal(cluster.core(3).committedInstance, 1, '3 has learned nothing since');
    for (const envelope of held) cluster.core(3).step(envelope.message); // all of them, then one Ready
    cluster.flush();
    assert.equal(cluster.core(3).committedInstance, 3);
    const byInstance = new Map<number, number[]>();
    for (const { instance, replica } of cluster.tailPublished) byInstance.set(instance, [...(byInstance.get(instance) ?? []), replica]);
    assert.deepEqual(byInstance.get(2), [2], 'instance 2, announced while 2 was named: by 2 alone');
    assert.deepEqual(byInstance.get(3), [3], 'instance 3, announced once 3 was named: by 3 alone');
  });

  it('with commitNoticeDelayTicks, a commit notice rides with the next accept, or leaves once the delay passed', () => {
    const cluster = leaderOf(new TestCluster(3, { commitNoticeDelayTicks: 2 }));
    const noticesNaming = (instance: number) =>
      cluster.sent.filter((e) => e.to !== 1 && e.message.type === 'commit' && e.message.chosen.some((c) => c.instance === instance));
    cluster.propose(1, [entry('a')]);
    cluster.settle();
    assert.equal(cluster.core(1).committedInstance, 1, 'the leader learned instance 1 and answered');
    assert.equal(noticesNaming(1).length, 0, 'no notice for it yet');
    assert.equal(cluster.core(2).committedInstance, 0);
    // The next proposal's accepts and instance 1's notice leave in one Ready (one NATS message per
    // peer; a broadcast includes the leader itself).
    cluster.propose(1, [entry('b')]);
    cluster.flush();
    const ready = cluster.readies.at(-1)!;
    assert.equal(ready.replica, 1);
    const early = ready.ready.messagesEarly.map((e) => `${e.to}:${e.message.type}`);
    assert.deepEqual(early.sort(), ['1:accept', '1:commit', '2:accept', '2:commit', '3:accept', '3:commit']);
    cluster.settle();
    assert.equal(cluster.core(2).committedInstance, 1, 'learned with the accept of instance 2');
    assert.equal(noticesNaming(2).length, 0, 'instance 2 waits in turn');
    cluster.tick(1);
    assert.equal(noticesNaming(2).length, 0, 'one tick: still within the delay');
    cluster.tick(1);
    assert.equal(noticesNaming(2).length, 2, 'the delay passed: one notice to each follower');
    assert.deepEqual([2, 3].map((id) => cluster.core(id).committedInstance), [2, 2]);
    assert.deepEqual(assertLogsAgree(cluster), ['0:a', '1:b']);
  });

  it('takes accepted replies in any order and releases batches in instance order', () => {
    const cluster = leaderOf(new TestCluster(3, { inflightInstancesMax: 4 }));
    for (let i = 0; i < 4; i++) cluster.propose(1, [entry(`e${i}`)]);
    const accepts = cluster.takeQueued().filter((q) => q.envelope.message.type === 'accept' && q.envelope.to !== 3);
    for (const q of accepts) cluster.deliver(q.envelope);
    const replies = cluster.takeQueued().filter((q) => q.envelope.message.type === 'accepted');
    replies.reverse();
    const released: number[] = [];
    for (const q of replies) {
      cluster.core(1).step(q.envelope.message);
      const ready = cluster.core(1).ready();
      released.push(...ready.committed.map((b) => b.instance));
      cluster.core(1).advance();
    }
    assert.deepEqual(released, [1, 2, 3, 4]);
  });

  it('keeps two competing proposers safe: the loser learns the higher ballot from the rejection', () => {
    const cluster = leaderOf(new TestCluster(3));
    cluster.propose(1, [entry('a')]);
    cluster.settle();
    cluster.core(2).campaign();
    cluster.settle();
    assert.equal(cluster.core(2).status().phase, 'leading');
    const stale = cluster.propose(1, [entry('b')]);
    cluster.settle();
    assert.equal(cluster.core(1).status().phase, 'follower', 'replica 1 was rejected and stepped down');
    assert.ok(cluster.sent.some((e) => e.message.type === 'reject' && e.message.promised.replica === 2));
    cluster.propose(2, [entry('c')]);
    cluster.settle();
    assert.deepEqual(assertLogsAgree(cluster), ['0:a', '1:c']);
    assert.deepEqual(cluster.node(1).outcomes.get(stale), { proposalId: stale, status: 'failed', reason: 'superseded', leaderHint: 2 });
  });

  it('exposes two positions and re-learns everything between them after a restart', () => {
    const cluster = leaderOf(new TestCluster(3));
    for (let i = 0; i < 10; i++) cluster.propose(1, [entry(`e${i}`)]);
    cluster.settle();
    cluster.restart(3, { fsmFromScratch: true });
    const before = cluster.core(3).status();
    assert.equal(before.committedInstance, 10, 'chosen marks on its own disk are re-learned at once');
    const wiped = new TestCluster(3);
    wiped.core(1).campaign();
    wiped.settle();
    for (let i = 0; i < 10; i++) wiped.propose(1, [entry(`e${i}`)]);
    wiped.dropIf = (_from, envelope) => envelope.to === 3 && envelope.message.type === 'commit';
    wiped.settle();
    wiped.restart(3, { fsmFromScratch: true });
    const lagging = wiped.core(3).status();
    assert.equal(lagging.committedInstance, 0);
    assert.equal(lagging.acceptedInstanceMax, 10);
    wiped.heal();
    wiped.tick(6);
    assert.equal(wiped.core(3).status().committedInstance, 10);
    assertLogsAgree(wiped);
  });

  it('sends a commit notice; a replica that lacks a chosen value fetches it from a peer', () => {
    const cluster = leaderOf(new TestCluster(3));
    cluster.dropIf = (_from, envelope) => envelope.to === 3 && envelope.message.type === 'accept';
    for (let i = 0; i < 5; i++) cluster.propose(1, [entry(`e${i}`)]);
    cluster.settle();
    assert.ok(cluster.countSent('commit') > 0);
    assert.ok(cluster.sent.some((e) => e.message.type === 'fetch' && e.message.from === 3), 'replica 3 asked for the values');
    assert.ok(cluster.sent.some((e) => e.message.type === 'fetched' && e.to === 3));
    assert.equal(cluster.core(3).committedInstance, 5);
    assert.equal(assertLogsAgree(cluster).length, 5);
  });

  it('a proposer whose log is behind learns the missing instances before proposing new ones', () => {
    const cluster = leaderOf(new TestCluster(3));
    cluster.isolate(3);
    for (let i = 0; i < 20; i++) cluster.propose(1, [entry(`e${i}`)]);
    cluster.settle();
    cluster.heal();
    assert.equal(cluster.core(3).committedInstance, 0);
    cluster.core(3).campaign();
    cluster.settle();
    assert.equal(cluster.core(3).status().phase, 'leading');
    assert.equal(cluster.core(3).committedInstance, 20);
    cluster.propose(3, [entry('new')]);
    cluster.settle();
    assert.deepEqual(assertLogsAgree(cluster).slice(19), ['19:e19', '20:new']);
  });

  it('fills holes with no-ops and re-proposes the highest-ballot value of each open instance', () => {
    const cluster = leaderOf(new TestCluster(3, { inflightInstancesMax: 4 }));
    for (let i = 0; i < 3; i++) cluster.propose(1, [entry(`e${i}`)]);
    const accepts = cluster.takeQueued().filter((q) => q.envelope.message.type === 'accept');
    for (const q of accepts) {
      const instance = (q.envelope.message as { instance: number }).instance;
      if (instance === 3 && q.envelope.to === 2) cluster.deliver(q.envelope);
    }
    cluster.takeQueued();
    cluster.core(2).campaign();
    cluster.settle();
    assert.equal(cluster.core(2).status().phase, 'leading');
    assert.deepEqual(assertLogsAgree(cluster), ['0:e2'], 'instances 1 and 2 became no-ops, 3 kept its value');
    assert.equal(cluster.core(1).committedInstance, 3);
  });

  it('never reuses a ballot round after a restart', () => {
    const cluster = leaderOf(new TestCluster(3));
    const first = cluster.core(1).status().ballot!;
    cluster.restart(1, { fsmFromScratch: false });
    cluster.core(1).campaign();
    const second = cluster.core(1).status().ballot!;
    assert.ok(second.round > first.round);
  });

  it('commits an id once: a retry reports the original offset', () => {
    const cluster = leaderOf(new TestCluster(3));
    const first = cluster.propose(1, [entry('same')]);
    const retry = cluster.propose(1, [entry('same'), entry('other')]);
    cluster.settle();
    const outcomes = cluster.node(1).outcomes;
    assert.deepEqual(outcomes.get(first), { proposalId: first, status: 'committed', instance: 1, results: [{ status: 'ok', offset: 0 }] });
    assert.deepEqual(outcomes.get(retry), {
      proposalId: retry,
      status: 'committed',
      instance: 2,
      results: [{ status: 'duplicate', offset: 0 }, { status: 'ok', offset: 1 }],
    });
  });

  it('refuses oversized and empty proposals with a clear reason', () => {
    const cluster = leaderOf(new TestCluster(3, { batchEntriesMax: 2 }));
    const big = cluster.propose(1, [entry('a'), entry('b'), entry('c')]);
    const empty = cluster.propose(1, []);
    cluster.settle();
    assert.equal((cluster.node(1).outcomes.get(big) as { reason: string }).reason, 'too-large');
    assert.equal((cluster.node(1).outcomes.get(empty) as { reason: string }).reason, 'invalid');
  });

  it('a follower answers not-leader with a hint to the replica it hears from', () => {
    const cluster = leaderOf(new TestCluster(3));
    cluster.propose(1, [entry('a')]);
    cluster.settle();
    const id = cluster.propose(2, [entry('b')]);
    cluster.settle();
    assert.deepEqual(cluster.node(2).outcomes.get(id), { proposalId: id, status: 'failed', reason: 'not-leader', leaderHint: 1 });
  });

  it('a wiped replica answers no prepare or accept, learns the log, and votes again once a leader chose an instance above its floor', () => {
    const cluster = wipedAfterTwenty();
    const votesBefore = cluster.sent.filter((e) => e.message.from === 3 && (e.message.type === 'accepted' || e.message.type === 'promise')).length;
    // Only client appends take the log past the floor here (the next test is the idle case).
    cluster.dropIf = (_from, envelope) => envelope.message.type === 'probe' && envelope.message.floor !== null;
    for (let i = 0; i < 5; i++) cluster.propose(1, [entry(`b${i}`)]);
    cluster.settle();
    cluster.tick(30);
    const votesWhileRebuilding = cluster.sent.filter((e) => e.message.from === 3 && (e.message.type === 'accepted' || e.message.type === 'promise')).length;
    assert.equal(votesWhileRebuilding, votesBefore, 'no vote while rebuilding');
    assert.equal(cluster.core(3).committedInstance, 25, 'it learned every instance meanwhile');
    assert.notEqual(cluster.core(3).status().rebuilding, null, 'instance 25 is below the floor: still rebuilding');
    for (let i = 0; i < 5; i++) cluster.propose(1, [entry(`c${i}`)]);
    cluster.settle();
    cluster.tick(30);
    assert.equal(cluster.core(3).status().rebuilding, null, 'a leader chose instances above the floor: it votes');
    assert.deepEqual(cluster.core(3).promised, cluster.core(1).status().ballot, 'it first promised that leader\'s ballot');
    assert.equal(cluster.node(3).stable.hardState().rebuilding, undefined, 'the mark is cleared on disk');
    cluster.propose(1, [entry('d')]);
    cluster.settle();
    assert.ok(cluster.sent.some((e) => e.message.from === 3 && e.message.type === 'accepted'), 'and it accepts again');
    assert.equal(assertLogsAgree(cluster).length, 31);
  });

  it("a wiped replica's ballots carry its new disk's incarnation, so they differ from its old life's at any round", () => {
    const cluster = leaderOf(new TestCluster(3, { inflightInstancesMax: 4, acceptAheadInstancesMax: 8 }), 3);
    const oldLife = cluster.core(3).status().ballot!;
    assert.equal(oldLife.incarnation, 1);
    cluster.propose(3, [entry('a')]);
    cluster.settle();
    cluster.wipe(3);
    leaderOf(cluster, 1);
    for (let i = 0; i < 12; i++) cluster.propose(1, [entry(`b${i}`)]);
    cluster.settle();
    cluster.tick(30);
    assert.equal(cluster.core(3).status().rebuilding, null, 'it votes again');
    cluster.core(3).campaign();
    cluster.settle();
    const newLife = cluster.core(3).status().ballot!;
    assert.equal(cluster.core(3).status().phase, 'leading');
    assert.equal(newLife.incarnation, 2, "the new disk's incarnation");
    assert.equal(cluster.node(3).stable.hardState().incarnation, 2, 'persisted with every hard state');
    assert.ok(cluster.sent.some((e) => e.message.type === 'prepare' && e.message.from === 3 && e.message.ballot.incarnation === 2), 'and on the wire');
    assert.deepEqual(assertLogsAgree(cluster), ['0:a', ...Array.from({ length: 12 }, (_, i) => `${i + 1}:b${i}`)]);
  });

  it('a wiped replica of an idle log votes again: the leader fills the log up to above its floor with no-ops', () => {
    const cluster = wipedAfterTwenty();
    cluster.tick(60);
    assert.equal(cluster.core(3).status().rebuilding, null, 'no client appended, yet it votes again');
    assert.equal(cluster.core(1).committedInstance, 29, 'no-ops through floor + 1, no further');
    assert.equal(cluster.core(3).committedInstance, 29);
    assert.deepEqual(cluster.core(3).promised, cluster.core(1).status().ballot);
    assert.equal(assertLogsAgree(cluster).length, 20, 'no-ops add no entries');
    cluster.isolate(2);
    cluster.propose(1, [entry('with 2 away')]);
    cluster.settle();
    assert.equal(cluster.core(1).committedInstance, 30, 'replicas 1 and 3 are a majority again');
  });

  it('a new cluster: every replica starts rebuilding, finds the others empty, and votes at once', () => {
    const cluster = new TestCluster(3);
    for (const id of cluster.peers) cluster.wipe(id);
    cluster.tick(2);
    for (const id of cluster.peers) assert.equal(cluster.core(id).status().rebuilding, null);
    leaderOf(cluster);
    cluster.propose(1, [entry('first')]);
    cluster.settle();
    assert.equal(assertLogsAgree(cluster).length, 1);
  });

  it('a fetch below a compaction asks for a snapshot; a promise from a compacted acceptor does not count', () => {
    const cluster = leaderOf(new TestCluster(3));
    cluster.isolate(3);
    for (let i = 0; i < 10; i++) cluster.propose(1, [entry(`e${i}`)]);
    cluster.settle();
    for (const id of [1, 2]) cluster.node(id).log.compactThrough(8);
    cluster.heal();
    cluster.tick(15);
    const asked = cluster.readies.filter((r) => r.replica === 3 && r.ready.snapshotNeeded !== null).map((r) => r.ready.snapshotNeeded);
    assert.ok(asked.length > 0, 'replica 3 asks for a snapshot');
    assert.ok(asked.every((needed) => needed !== null && needed.instanceMin === 8));
    assert.equal(cluster.core(3).committedInstance, 0, 'it cannot learn instances that are gone');
    cluster.core(3).campaign();
    cluster.tick(60);
    assert.notEqual(cluster.core(3).status().phase, 'leading', 'it never leads from behind a compaction');
    assert.equal(cluster.sent.filter((e) => e.message.from === 3 && e.message.type === 'accept').length, 0, 'and never fills instances 1-8 with no-ops');
  });
});

describe('Rebuild', () => {
  const zero = { round: 0, replica: 0, incarnation: 0 };
  it('waits for a majority of the others, sees a new cluster only when all of them are empty, and floors above what they accepted', () => {
    const five = new Rebuild({ id: 1, peers: [1, 2, 3, 4, 5], acceptAheadInstancesMax: 16 });
    assert.equal(five.answersNeeded, 3, 'a majority of the 5 replicas, counted among the other 4');
    assert.equal(five.observe(2, { committedInstance: 0, acceptedInstanceMax: 0, promised: zero }), 'waiting');
    assert.equal(five.observe(3, { committedInstance: 0, acceptedInstanceMax: 0, promised: zero }), 'waiting');
    assert.equal(five.observe(4, { committedInstance: 0, acceptedInstanceMax: 0, promised: zero }), 'new-cluster');
    const three = new Rebuild({ id: 1, peers: [1, 2, 3], acceptAheadInstancesMax: 16 });
    assert.equal(three.observe(2, { committedInstance: 0, acceptedInstanceMax: 0, promised: zero }), 'waiting', 'one empty peer is not enough');
    assert.equal(three.observe(3, { committedInstance: 0, acceptedInstanceMax: 0, promised: { round: 1, replica: 3, incarnation: 0 } }), 'floor', 'a promise anywhere means history');
    assert.equal(three.floor, 16);
    assert.equal(three.voteBallot(17), null, 'no leader notice above the floor seen yet');
    three.noticed({ round: 2, replica: 2, incarnation: 0 }, [10, 16]);
    assert.equal(three.voteBallot(17), null, 'a notice for instances at or below the floor does not count');
    three.noticed({ round: 3, replica: 2, incarnation: 0 }, [17]);
    assert.equal(three.voteBallot(16), null, 'not committed above the floor yet');
    assert.deepEqual(three.voteBallot(17), { round: 3, replica: 2, incarnation: 0 });
  });
});

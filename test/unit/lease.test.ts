import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { leaseBallotCompare, leaseBallotMake } from '../../src/election/leaseBallot.js';
import { leaseLimitsDefault, leaseTiming } from '../../src/election/limits.js';
import { LeaseNet } from '../helpers/LeaseNet.js';

const limits = { leaseTicks: 100, roundTicks: 10, backoffTicksMax: 10, gatherTicks: 2 };
const timing = leaseTiming({ ...leaseLimitsDefault, ...limits });

function elected(net: LeaseNet): number {
  net.tickUntil(() => net.holders().length === 1, timing.restartWaitTicks + 200);
  return net.holders()[0]!;
}

describe('PaxosLease timing', () => {
  it('keeps the holder inside every acceptor lease, for any clock drift within the bound', () => {
    for (const leaseTicks of [leaseLimitsDefault.leaseTicks, 400]) {
      for (const driftRatioMax of [0, 0.01, 0.05, 0.2]) {
        const limits = { ...leaseLimitsDefault, leaseTicks, driftRatioMax };
        if (leaseTicks === leaseLimitsDefault.leaseTicks && driftRatioMax === 0.2) {
          // At 20% drift the holder of a 2 s lease believes in it for 1.31 s: too short to renew in two rounds.
          assert.throws(() => leaseTiming(limits), /two rounds/);
          continue;
        }
        const t = leaseTiming(limits);
        const holderRealMax = t.holderTicks / (1 - driftRatioMax);
        const acceptorRealMin = (t.limits.leaseTicks - 1) / (1 + driftRatioMax);
        assert.ok(holderRealMax <= acceptorRealMin, `lease ${leaseTicks}, drift ${driftRatioMax}: ${holderRealMax} > ${acceptorRealMin}`);
        assert.ok(t.restartWaitTicks > t.limits.leaseTicks);
        assert.ok(t.renewTicksLeft > 2 * t.limits.roundTicks, 'renewal starts with room for two rounds');
      }
    }
  });

  it('orders ballots by round, then restart epoch, then replica', () => {
    const a = leaseBallotMake({ round: 2, epoch: 1, replica: 3 });
    const b = leaseBallotMake({ round: 2, epoch: 2, replica: 1 });
    const c = leaseBallotMake({ round: 3, epoch: 1, replica: 1 });
    assert.ok(leaseBallotCompare(a, b) < 0 && leaseBallotCompare(b, c) < 0);
  });
});

describe('PaxosLease', () => {
  it('elects exactly one holder once the acceptors have waited out a restart, and no node is configured', () => {
    const net = new LeaseNet(3, limits);
    net.tick(timing.restartWaitTicks - 1);
    assert.deepEqual(net.holders(), [], 'freshly started acceptors stay silent for M');
    const holder = elected(net);
    for (let i = 0; i < 10 * limits.leaseTicks; i++) {
      net.tick();
      assert.deepEqual(net.holders(), [holder], 'a healthy holder renews and never lapses');
    }
    assert.equal(net.events.filter((e) => e.event === 'lost').length, 0);
    assert.ok(net.events.filter((e) => e.event === 'renewed').length >= 10);
  });

  it('renews with a fresh Phase 1: every renewal sends a prepare with a new ballot', () => {
    const net = new LeaseNet(3, limits);
    const holder = elected(net);
    const preparesBefore = net.sent.filter((m) => m.from === holder && m.message.type === 'lease-prepare').length;
    net.tick(3 * limits.leaseTicks);
    const renewals = net.events.filter((e) => e.event === 'renewed' && e.replica === holder).length;
    const prepares = net.sent.filter((m) => m.from === holder && m.message.type === 'lease-prepare').length - preparesBefore;
    assert.ok(renewals >= 3);
    assert.ok(prepares >= 3 * renewals, 'each renewal round starts with a prepare to every acceptor');
  });

  it('survives a lost Phase-2 message during renewal: the round times out and a new round renews in time', () => {
    const net = new LeaseNet(3, limits);
    const holder = elected(net);
    let dropped = 0;
    net.dropIf = (from, envelope) => {
      if (from !== holder || envelope.message.type !== 'lease-propose' || dropped >= 4) return false;
      dropped++;
      return true;
    };
    net.tick(2 * limits.leaseTicks);
    assert.equal(dropped, 4, 'two renewal rounds lost all their Phase-2 messages to the other acceptors');
    assert.deepEqual(net.holders(), [holder]);
    assert.equal(net.events.filter((e) => e.event === 'lost').length, 0);
  });

  it('keeps a slow holder: no other replica probes while its own acceptor holds the lease, so no probe makes a renewal fail', () => {
    const net = new LeaseNet(3, limits);
    const holder = elected(net);
    // Every answer to the holder takes 4 ticks, as from acceptors whose loops are busy with large
    // writes: a renewal (two phases) stays open for about 8 of its 10 ticks. A prepare from another
    // replica in that time would raise the acceptors' promise above the renewal's ballot.
    net.delayIf = (from, envelope) => {
      const type = envelope.message.type;
      return from !== holder && envelope.to === holder && (type === 'lease-promise' || type === 'lease-accepted') ? 4 : 0;
    };
    const sentBefore = net.sent.length;
    for (let i = 0; i < 10 * limits.leaseTicks; i++) {
      net.tick();
      assert.deepEqual(net.holders(), [holder], `tick ${net.tickCount}: the holder keeps its lease`);
    }
    const probes = net.sent.slice(sentBefore).filter((m) => m.from !== holder && m.message.type === 'lease-prepare');
    assert.equal(probes.length, 0, 'no other replica prepared while the lease ran');
    assert.equal(net.events.filter((e) => e.event === 'lost').length, 0);
  });

  it('a restarted acceptor answers nothing for M, so it cannot grant a second lease', () => {
    const net = new LeaseNet(3, limits);
    const holder = elected(net);
    const other = holder === 1 ? 2 : 1;
    net.down.add(other);
    net.start(other);
    const answersBefore = net.sent.filter((m) => m.from === other && m.message.type !== 'lease-prepare').length;
    net.tick(timing.restartWaitTicks - 1);
    const answers = net.sent.filter((m) => m.from === other && m.message.type !== 'lease-prepare').length - answersBefore;
    assert.equal(answers, 0);
    assert.deepEqual(net.holders(), [holder]);
  });

  it('a clean release lets a successor take over within a few ticks', () => {
    const net = new LeaseNet(3, limits);
    const holder = elected(net);
    net.tick(20);
    net.node(holder).release();
    net.flush();
    net.down.add(holder);
    const ticks = net.tickUntil(() => net.holders().length === 1, limits.leaseTicks);
    assert.ok(ticks <= limits.backoffTicksMax + 2 * limits.roundTicks, `took ${ticks} ticks`);
  });

  it('after a crash of the holder, a successor holds within the lease time plus a round', () => {
    const net = new LeaseNet(3, limits);
    const holder = elected(net);
    net.tick(30);
    net.down.add(holder);
    const ticks = net.tickUntil(() => net.holders().length === 1, 3 * limits.leaseTicks);
    assert.ok(ticks <= limits.leaseTicks + limits.roundTicks + limits.backoffTicksMax + limits.gatherTicks, `took ${ticks} ticks`);
  });

  it('an acceptor refuses a candidate whose log is behind its own', () => {
    const net = new LeaseNet(3, limits);
    net.positions.set(1, { committedInstance: 10, acceptedInstanceMax: 10 });
    net.tick(timing.restartWaitTicks + 1);
    const acceptor = net.node(1);
    acceptor.take();
    acceptor.step({ type: 'lease-prepare', from: 2, ballot: leaseBallotMake({ round: 99, epoch: 1, replica: 2 }), position: { committedInstance: 9, acceptedInstanceMax: 30 } });
    const [reply] = acceptor.take().messages;
    assert.equal(reply?.message.type, 'lease-reject');
    assert.equal(reply?.message.type === 'lease-reject' && reply.message.reason, 'behind');
  });

  it('a release that overtakes the proposal it covers: the late proposal is not granted', () => {
    const net = new LeaseNet(3, limits);
    net.tick(timing.restartWaitTicks + 1);
    const acceptor = net.node(1);
    acceptor.take();
    const ballot = leaseBallotMake({ round: 99, epoch: 1, replica: 2 });
    acceptor.step({ type: 'lease-prepare', from: 2, ballot, position: { committedInstance: 0, acceptedInstanceMax: 0 } });
    acceptor.step({ type: 'lease-release', from: 2, ballot });
    acceptor.step({ type: 'lease-propose', from: 2, ballot });
    const types = acceptor.take().messages.map((m) => m.message.type);
    assert.deepEqual(types, ['lease-promise'], 'promised, then nothing: the released proposal is dropped');
    const later = leaseBallotMake({ round: 100, epoch: 1, replica: 2 });
    acceptor.step({ type: 'lease-prepare', from: 2, ballot: later, position: { committedInstance: 0, acceptedInstanceMax: 0 } });
    acceptor.step({ type: 'lease-propose', from: 2, ballot: later });
    assert.deepEqual(acceptor.take().messages.map((m) => m.message.type), ['lease-promise', 'lease-accepted'], 'a later ballot is granted');
  });

  it('a replica that may not stand (rebuilding) never refuses a candidate behind it, so the voters elect one of them', () => {
    const net = new LeaseNet(3, limits);
    net.rebuilding.add(3);
    net.positions.set(3, { committedInstance: 22, acceptedInstanceMax: 22 });
    for (const id of [1, 2]) net.positions.set(id, { committedInstance: 21, acceptedInstanceMax: 22 });
    net.tick(timing.restartWaitTicks + 1);
    const acceptor = net.node(3);
    acceptor.take();
    acceptor.step({ type: 'lease-prepare', from: 1, ballot: leaseBallotMake({ round: 99, epoch: 1, replica: 1 }), position: { committedInstance: 21, acceptedInstanceMax: 22 } });
    assert.equal(acceptor.take().messages[0]?.message.type, 'lease-promise');
    const holder = elected(net);
    assert.ok(holder === 1 || holder === 2, `elected ${holder}`);
  });

  it('the most up-to-date replica wins at cold start, whichever it is', () => {
    for (const ahead of [1, 2, 3]) {
      for (let trial = 0; trial < 5; trial++) {
        const net = new LeaseNet(3, limits);
        for (const id of [1, 2, 3]) net.positions.set(id, { committedInstance: 10, acceptedInstanceMax: id === ahead ? 12 : 10 - trial });
        assert.equal(elected(net), ahead);
      }
    }
  });

  it('the committed instance outranks the accepted instance', () => {
    const net = new LeaseNet(3, limits);
    net.positions.set(1, { committedInstance: 9, acceptedInstanceMax: 50 });
    net.positions.set(2, { committedInstance: 10, acceptedInstanceMax: 10 });
    net.positions.set(3, { committedInstance: 8, acceptedInstanceMax: 60 });
    assert.equal(elected(net), 2);
  });

  it('a restarted former holder holds nothing until it wins a lease again', () => {
    const net = new LeaseNet(3, limits);
    const holder = elected(net);
    net.down.add(holder);
    net.start(holder);
    assert.equal(net.node(holder).isHolder, false);
    assert.deepEqual(net.holders(), []);
  });
});

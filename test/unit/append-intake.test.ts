import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AppendIntake } from '../../src/node/AppendIntake.js';

/** One turn of the event loop: every setImmediate queued before this one has run. */
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('AppendIntake', () => {
  it('takes appends at once within a turn budget, then the rest in arrival order a budget per turn', async () => {
    const taken: string[] = [];
    const intake = new AppendIntake<string>({ costPerTurnMax: 10, take: (item) => taken.push(item) });
    intake.push('a', 4);
    intake.push('b', 4);
    assert.deepEqual(taken, ['a', 'b'], 'within the budget: taken at once');
    intake.push('c', 4);
    assert.deepEqual(taken, ['a', 'b', 'c'], 'the budget was not yet spent (8 of 10): taken, overspending it');
    intake.push('d', 1);
    intake.push('e', 20);
    intake.push('f', 1);
    assert.deepEqual(taken, ['a', 'b', 'c'], 'past the budget: queued');
    assert.equal(intake.size, 3);
    await turn();
    assert.deepEqual(taken, ['a', 'b', 'c', 'd', 'e'], 'next turn: in order until the budget is spent; one costlier than the budget still goes');
    intake.push('g', 1);
    assert.deepEqual(taken, ['a', 'b', 'c', 'd', 'e'], 'something waits: a new append queues behind it');
    await turn();
    assert.deepEqual(taken, ['a', 'b', 'c', 'd', 'e', 'f', 'g']);
    assert.equal(intake.size, 0);
    await turn();
    intake.push('h', 10);
    assert.deepEqual(taken.at(-1), 'h', 'a new turn: a lone append is taken at once');
  });

  it('hands back what waits on drain, and takes nothing more of it', async () => {
    const taken: number[] = [];
    const intake = new AppendIntake<number>({ costPerTurnMax: 1, take: (item) => taken.push(item) });
    for (let item = 0; item < 5_000; item++) intake.push(item, 1);
    assert.deepEqual(taken, [0]);
    await turn();
    assert.deepEqual(taken, [0, 1]);
    const waiting = intake.drain();
    assert.equal(waiting.length, 4_998);
    assert.equal(waiting[0], 2);
    assert.equal(waiting.at(-1), 4_999);
    await turn();
    await turn();
    assert.deepEqual(taken, [0, 1]);
    assert.equal(intake.size, 0);
  });

  it('keeps arrival order across thousands of turns (its queue compacts as it goes)', async () => {
    const taken: number[] = [];
    const intake = new AppendIntake<number>({ costPerTurnMax: 3, take: (item) => taken.push(item) });
    let next = 0;
    while (next < 10_000) intake.push(next++, 1);
    for (let turns = 0; intake.size > 0; turns++) {
      const before = taken.length;
      await turn();
      assert.ok(taken.length - before <= 3, 'at most the budget a turn');
      // Newcomers while the queue is long: they go behind it.
      if (turns % 500 === 0) for (let more = 0; more < 2; more++) intake.push(next++, 1);
    }
    assert.equal(taken.length, next);
    for (let at = 0; at < taken.length; at++) assert.equal(taken[at], at, `order at ${at}`);
  });

  it('refuses a bad budget or cost', () => {
    assert.throws(() => new AppendIntake({ costPerTurnMax: 0, take: () => undefined }));
    const intake = new AppendIntake<number>({ costPerTurnMax: 1, take: () => undefined });
    assert.throws(() => intake.push(1, Number.NaN));
    assert.throws(() => intake.push(1, -1));
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ballotCompare, ballotEqual, ballotMake, ballotText, ballotZero } from '../../src/log/ballot.js';
import { SeededRandom } from '../../src/log/random.js';

describe('ballots', () => {
  it('order by round, then by replica id', () => {
    const a = ballotMake({ round: 1, replica: 3, incarnation: 1 });
    const b = ballotMake({ round: 2, replica: 1, incarnation: 1 });
    const c = ballotMake({ round: 2, replica: 2, incarnation: 1 });
    assert.ok(ballotCompare(a, b) < 0);
    assert.ok(ballotCompare(b, c) < 0);
    assert.ok(ballotCompare(ballotZero, a) < 0);
    assert.equal(ballotCompare(c, ballotMake({ round: 2, replica: 2, incarnation: 1 })), 0);
  });

  it('of two lives of one replica differ at the same round, by incarnation, and their text says so', () => {
    const oldLife = ballotMake({ round: 5, replica: 3, incarnation: 41 });
    const newLife = ballotMake({ round: 5, replica: 3, incarnation: 9 });
    assert.equal(ballotEqual(oldLife, newLife), false);
    assert.ok(ballotCompare(newLife, oldLife) < 0 && ballotCompare(oldLife, newLife) > 0);
    assert.ok(ballotCompare(ballotMake({ round: 5, replica: 2, incarnation: 99 }), newLife) < 0, 'the replica id orders before the incarnation');
    assert.equal(ballotText(oldLife), '5.3.41');
    assert.equal(ballotText({ round: 5, replica: 3, incarnation: 0 }), '5.3', 'a ballot stored before incarnations keeps its text');
    assert.throws(() => ballotMake({ round: 1, replica: 1, incarnation: 2 ** 48 }));
    assert.throws(() => ballotMake({ round: 1, replica: 1, incarnation: -1 }));
    assert.throws(() => ballotMake({ round: 1, replica: 1, incarnation: 0 }), 'a proposer makes ballots with its store\'s own incarnation, never 0');
  });

  it('refuse a round or replica that could collide with the zero ballot', () => {
    assert.throws(() => ballotMake({ round: 0, replica: 1, incarnation: 1 }));
    assert.throws(() => ballotMake({ round: 1, replica: 0, incarnation: 1 }));
  });
});

describe('SeededRandom', () => {
  it('replays the same sequence for the same seed', () => {
    const a = new SeededRandom(42);
    const b = new SeededRandom(42);
    const seqA = Array.from({ length: 20 }, () => a.int(0, 1000));
    const seqB = Array.from({ length: 20 }, () => b.int(0, 1000));
    assert.deepEqual(seqA, seqB);
    const c = new SeededRandom(43);
    assert.notDeepEqual(seqA, Array.from({ length: 20 }, () => c.int(0, 1000)));
  });

  it('stays inside the bounds it is given', () => {
    const random = new SeededRandom(7);
    for (let i = 0; i < 10_000; i++) {
      const n = random.int(3, 5);
      assert.ok(n >= 3 && n <= 5);
    }
  });
});

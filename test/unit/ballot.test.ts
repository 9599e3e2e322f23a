import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ballotCompare, ballotMake, ballotZero } from '../../src/log/ballot.js';
import { SeededRandom } from '../../src/log/random.js';

describe('ballots', () => {
  it('order by round, then by replica id', () => {
    const a = ballotMake({ round: 1, replica: 3 });
    const b = ballotMake({ round: 2, replica: 1 });
    const c = ballotMake({ round: 2, replica: 2 });
    assert.ok(ballotCompare(a, b) < 0);
    assert.ok(ballotCompare(b, c) < 0);
    assert.ok(ballotCompare(ballotZero, a) < 0);
    assert.equal(ballotCompare(c, ballotMake({ round: 2, replica: 2 })), 0);
  });

  it('refuse a round or replica that could collide with the zero ballot', () => {
    assert.throws(() => ballotMake({ round: 0, replica: 1 }));
    assert.throws(() => ballotMake({ round: 1, replica: 0 }));
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

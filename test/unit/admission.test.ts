import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AppendAdmission } from '../../src/node/AppendAdmission.js';
import { ReadBudget } from '../../src/node/ReadBudget.js';

describe('admission of client work', () => {
  it('AppendAdmission holds appends up to its bytes, one request alone always, and gives bytes back once each', () => {
    const admission = new AppendAdmission(1_000);
    const first = admission.admit(600);
    const second = admission.admit(400);
    assert.ok(first !== null && second !== null);
    assert.equal(admission.admit(1), null, 'full: refused');
    assert.equal(admission.hasRoom(1), false);
    first();
    first();
    assert.equal(admission.bytes, 400, 'a release counts once');
    const third = admission.admit(600);
    assert.ok(third !== null);
    second();
    third();
    assert.equal(admission.bytes, 0);
    const huge = admission.admit(5_000);
    assert.ok(huge !== null, 'a request larger than the bound is admitted when nothing else is held');
    assert.equal(admission.admit(1), null);
    huge();
  });

  it('ReadBudget admits reads while it has units, lets a started read overdraw, and refills at its rate up to one second', () => {
    let nowMs = 0;
    const budget = new ReadBudget({ unitsPerSecondMax: 1_000, nowMs: () => nowMs });
    assert.equal(budget.admits(), true);
    budget.spend(4_096); // one page overdraws the bucket
    assert.equal(budget.admits(), false);
    nowMs += 3_000;
    assert.equal(budget.admits(), false, '3 s refill 3,000 of the 3,096 owed');
    nowMs += 100;
    assert.equal(budget.admits(), true);
    nowMs += 60_000;
    budget.spend(1_000);
    assert.equal(budget.admits(), false, 'idle time banks one second at most');
    nowMs += 1;
    assert.equal(budget.admits(), true);
  });
});

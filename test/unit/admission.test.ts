import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AppendAdmission } from '../../src/node/AppendAdmission.js';
import { ReadBudget } from '../../src/node/ReadBudget.js';
import { appendEntriesCount, entryWireBytesMin } from '../../src/transport/appendEntriesCount.js';
import { encodeAppendRequest } from '../../src/transport/clientWire.js';
import { wireEncode } from '../../src/transport/codec.js';
import { PROTOCOL_VERSION } from '../../src/transport/wireLimits.js';
import { decode } from '@msgpack/msgpack';

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

describe('appendEntriesCount', () => {
  const entry = (i: number) => ({ data: new Uint8Array(i % 7), id: `id-${i}`, ...(i % 3 === 0 ? { key: `k.${i}` } : {}) });

  it('reads the count from the entries header of every request the client encodes, without decoding', () => {
    for (const count of [1, 15, 16, 65_535, 65_536]) {
      const body = encodeAppendRequest({ v: PROTOCOL_VERSION, log: 'a-log-name-of-31-characters-xyz', entries: Array.from({ length: count }, (_, i) => entry(i)) });
      assert.equal(appendEntriesCount(body), count, `${count} entries`);
    }
  });

  it('never answers below what the decode finds: other layouts get the most entries the bytes could hold', () => {
    assert.equal(wireEncode({ data: new Uint8Array(0) }).byteLength, entryWireBytesMin, 'the smallest entry');
    const entries = Array.from({ length: 100 }, () => ({ data: new Uint8Array(0) }));
    const layouts = [
      wireEncode({ entries, v: PROTOCOL_VERSION, log: 'l' }), // entries not last
      wireEncode({ v: PROTOCOL_VERSION, log: 'l', entries: [], entries2: entries }), // no usable entries field
      wireEncode({ v: { nested: true }, log: 'l', entries }), // a map before entries
      wireEncode({ v: PROTOCOL_VERSION, log: 'x'.repeat(40), entries }), // a str8 before entries: still peeked
    ];
    for (const body of layouts) {
      const found = (decode(body) as { entries: unknown[] }).entries.length;
      assert.ok(appendEntriesCount(body) >= found, `${appendEntriesCount(body)} >= ${found}`);
    }
    assert.equal(appendEntriesCount(layouts[3]!), 100);
    assert.equal(appendEntriesCount(layouts[0]!), Math.ceil(layouts[0]!.byteLength / entryWireBytesMin));
    assert.equal(appendEntriesCount(new Uint8Array(0)), 0);
    assert.equal(appendEntriesCount(Uint8Array.of(0x83, 0xa7, 0x65)), 1, 'cut short: the bound');
  });
});

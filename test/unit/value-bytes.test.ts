import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Entry, Value } from '../../src/log/types.js';
import { SeededRandom } from '../../src/log/random.js';
import { valueBytes } from '../../src/storage/valueBytes.js';
import { valueDecode, valueEncode, valueEncodeByLibrary } from '../../src/storage/valueCodec.js';

const edges = [0, 1, 127, 128, 255, 256, 65_535, 65_536, 2 ** 32 - 1, 2 ** 32, 2 ** 53 - 1];
const lengths = [0, 1, 31, 32, 255, 256, 65_535, 65_536];

function text(random: SeededRandom, length: number): string {
  const alphabet = ['a', 'Z', '9', '-', '.', 'é', '€', '😀'];
  let out = '';
  while (out.length < length) out += alphabet[random.int(0, random.int(0, 1) === 0 ? 4 : alphabet.length - 1)]!;
  return out.slice(0, length).replace(/[\ud800-\udbff]$/, 'x');
}

function entryOf(random: SeededRandom): Entry {
  const entry: { data: Uint8Array; id?: string; key?: string; expectedOffset?: number } = {
    data: new Uint8Array(lengths[random.int(0, lengths.length - 1)]!).fill(random.int(0, 255)),
  };
  if (random.int(0, 2) > 0) entry.id = text(random, lengths[random.int(0, 4)]!);
  if (random.int(0, 2) === 0) entry.key = text(random, random.int(1, 40));
  if (random.int(0, 2) === 0) entry.expectedOffset = edges[random.int(0, edges.length - 1)]!;
  return entry;
}

describe('valueBytes', () => {
  it('writes the bytes @msgpack/msgpack writes for the stored form, at every size boundary, and they decode back', () => {
    const random = new SeededRandom(20261128);
    for (let round = 0; round < 60; round++) {
      const count = [0, 1, 15, 16, random.int(2, 40)][round % 5]!;
      const value: Value = { valueId: `1.1:${round}`, timestampMs: edges[round % edges.length]!, entries: Array.from({ length: count }, () => entryOf(random)) };
      const direct = valueEncode(value);
      assert.deepEqual(Buffer.from(direct), Buffer.from(valueEncodeByLibrary(value)), `round ${round}`);
      assert.deepEqual(valueDecode({ bytes: direct, valueId: value.valueId, table: 'records', key: 'test' }), value);
    }
    const many: Value = { valueId: '1.1:many', timestampMs: 1, entries: Array.from({ length: 65_536 }, (_, i) => ({ data: new Uint8Array([i % 256]) })) };
    assert.deepEqual(Buffer.from(valueEncode(many)), Buffer.from(valueEncodeByLibrary(many)), 'array 32 past 65,535 entries');
  });

  it('writes a lone surrogate as the library does, in short strings (its 3 bytes) and long ones (U+FFFD)', () => {
    for (const id of ['\ud800', 'a\udc00b', `${'x'.repeat(49)}\ud83d`, `${'x'.repeat(50)}\ud83d`, `\ud83d${'é'.repeat(60)}`, '😀\ud83d😀']) {
      const value: Value = { valueId: '1.1:1', timestampMs: 1, entries: [{ data: new Uint8Array([1]), id, key: id }] };
      assert.deepEqual(Buffer.from(valueEncode(value)), Buffer.from(valueEncodeByLibrary(value)), JSON.stringify(id));
    }
  });

  it('leaves a number that is not a non-negative safe integer to the library', () => {
    const data = new Uint8Array(1);
    assert.equal(valueBytes({ valueId: 'v', timestampMs: -1, entries: [] }, 1), null);
    assert.equal(valueBytes({ valueId: 'v', timestampMs: 1.5, entries: [] }, 1), null);
    assert.equal(valueBytes({ valueId: 'v', timestampMs: 0, entries: [{ data, expectedOffset: 2 ** 53 }] }, 1), null);
    assert.notEqual(valueBytes({ valueId: 'v', timestampMs: 0, entries: [{ data, expectedOffset: 2 ** 53 - 1 }] }, 1), null);
  });
});

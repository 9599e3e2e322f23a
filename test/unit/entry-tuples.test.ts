import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Encoder } from '@msgpack/msgpack';
import { SeededRandom } from '../../src/log/random.js';
import { committedEntryMake, type Entry, type PackedSegment } from '../../src/log/types.js';
import { CorruptionError } from '../../src/storage/CorruptionError.js';
import { valueEncode, valueEncodeByLibrary, valueTupleStarts } from '../../src/storage/valueCodec.js';
import { decodeReadReply, encodeReadReply } from '../../src/transport/clientWire.js';
import { tuplesDecode } from '../../src/transport/entryTuples.js';

const encoder = new Encoder();
const where = { table: 'records', key: 'instance 1' };

/** Texts that take every UTF-8 width, and both sides of the 32-byte short-text path. */
function randomText(random: SeededRandom): string {
  const pieces = ['a', 'Z', '9', '-', 'é', 'ß', '€', '注', '𝄞', ' '];
  let text = '';
  for (let i = random.int(1, 60); i > 0; i--) text += pieces[random.int(0, random.next() < 0.7 ? 3 : pieces.length - 1)];
  return text;
}

function randomEntry(random: SeededRandom): Entry {
  const sizes = [0, 1, 255, 256, 70_000];
  const entry: { -readonly [K in keyof Entry]: Entry[K] } = { data: new Uint8Array(sizes[random.int(0, random.next() < 0.9 ? 2 : 4)]!).fill(random.int(0, 255)) };
  if (random.next() < 0.8) entry.id = randomText(random);
  if (random.next() < 0.5) entry.key = randomText(random);
  if (random.next() < 0.3) entry.expectedOffset = [0, 127, 128, 70_000, 2 ** 40][random.int(0, 4)]!;
  return entry;
}

function segmentOf(tuples: unknown[], offsetFirst = 10): PackedSegment {
  const bytes = new Uint8Array(tuples.flatMap((tuple) => [...encoder.encode(tuple)]));
  return { offsetFirst, timestampMs: 5, count: tuples.length, tuples: bytes };
}

describe('entry tuples: the stored form, read without a msgpack library', () => {
  it('valueTupleStarts and tuplesDecode give back every entry of random values, both encoders', () => {
    const random = new SeededRandom(31);
    for (let trial = 0; trial < 300; trial++) {
      const entries = Array.from({ length: random.int(0, 40) }, () => randomEntry(random));
      const value = { valueId: 'v', timestampMs: random.next() < 0.5 ? 1_700_000_000_000 : random.int(0, 200), entries };
      for (const bytes of [valueEncode(value), valueEncodeByLibrary(value)]) {
        const starts = valueTupleStarts({ bytes, ...where });
        assert.equal(starts.length, entries.length + 1);
        const segment = { offsetFirst: 100, timestampMs: 7, count: entries.length, tuples: bytes.subarray(starts[0], starts[entries.length]) };
        const expected = entries.map((entry, i) => committedEntryMake({ offset: 100 + i, data: entry.data, id: entry.id, key: entry.key, timestampMs: 7 }));
        if (entries.length > 0) assert.deepEqual(tuplesDecode(segment), expected, `trial ${trial}`);
      }
    }
  });

  it('valueTupleStarts refuses a value that cannot have been written, as corruption', () => {
    const good = valueEncode({ valueId: 'v', timestampMs: 1, entries: [{ data: new Uint8Array([1]), id: 'a' }] });
    const bad = [
      good.subarray(0, good.length - 1),
      new Uint8Array([...good, 0xc0]),
      Uint8Array.from(good, (byte, i) => (i === 1 ? 2 : byte)),
      encoder.encode([1, 1, [[new Uint8Array([1]), 5, null, null]]]),
      encoder.encode([1, 1, [[new Uint8Array([1]), null, null]]]),
      encoder.encode([1, 1, [['text', null, null, null]]]),
      encoder.encode({ format: 1 }),
    ];
    for (const bytes of bad) assert.throws(() => valueTupleStarts({ bytes, ...where }), CorruptionError, `refuses ${Buffer.from(bytes).toString('hex')}`);
  });

  it('tuplesDecode names what is wrong with a segment from the wire', () => {
    const data = new Uint8Array([1, 2]);
    const cases: Array<[PackedSegment, RegExp]> = [
      [{ ...segmentOf([[data, 'a', null, null]]), count: 2 }, /entry 1 .* is not/],
      [{ ...segmentOf([[data, 'a', null, null], [data, null, null, null]]), count: 1 }, /bytes past its 1 entries/],
      [segmentOf([[data, 'a', null]]), /entry 0 .* is not/],
      [segmentOf([[data, 7, null, null]]), /entry 0 .* is not/],
      [segmentOf([['not bin', null, null, null]]), /entry 0 .* is not/],
      [segmentOf([[data, null, null, -1]]), /entry 0 .* is not/],
      [segmentOf([[data, 'x'.repeat(257), null, null]]), /id must be at most 256/],
      [segmentOf([[data, null, 'k'.repeat(257), null]]), /key must be at most 256/],
      [{ offsetFirst: 0, timestampMs: 0, count: 1, tuples: new Uint8Array([0x94, 0xc4, 0x00, 0xa2, 0xc3, 0x28, 0xc0, 0xc0]) }, /not UTF-8/],
    ];
    for (const [segment, problem] of cases) {
      const decoded = tuplesDecode(segment);
      assert.equal(typeof decoded, 'string', `refuses ${problem}`);
      assert.match(decoded as string, problem);
    }
  });

  it('a packed read reply decodes into entries, or into a named failure, never into a gap or a repeat', () => {
    const data = new Uint8Array([3]);
    const first = segmentOf([[data, 'a', 'k', null], [data, null, null, 9]], 10);
    const second = segmentOf([[data, 'é注𝄞', null, null]], 20);
    const decoded = decodeReadReply(encodeReadReply({ v: 1, ok: true, packed: [first, second], offsetNext: 21 }), { bytesMax: 1 << 20 });
    assert.ok(decoded.ok && decoded.reply.ok);
    assert.deepEqual(decoded.reply, {
      v: 1,
      ok: true,
      entries: [
        { offset: 10, data, id: 'a', key: 'k', timestampMs: 5 },
        { offset: 11, data, timestampMs: 5 },
        { offset: 20, data, id: 'é注𝄞', timestampMs: 5 },
      ],
      offsetNext: 21,
    });
    const backwards = decodeReadReply(encodeReadReply({ v: 1, ok: true, packed: [second, first], offsetNext: 21 }), { bytesMax: 1 << 20 });
    assert.ok(!backwards.ok && backwards.problem === 'schema' && /follows offset 20/.test(backwards.detail));
    const broken = decodeReadReply(encodeReadReply({ v: 1, ok: true, packed: [{ ...first, count: 3 }], offsetNext: 21 }), { bytesMax: 1 << 20 });
    assert.ok(!broken.ok && broken.problem === 'schema');
    const notTuple = decodeReadReply(encoder.encode({ v: 1, ok: true, packed: [[10, 5, 0, new Uint8Array()]], offsetNext: 10 }), { bytesMax: 1 << 20 });
    assert.ok(!notTuple.ok && notTuple.problem === 'schema', 'a segment of no entries');
  });
});

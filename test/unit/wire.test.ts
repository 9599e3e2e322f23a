import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encode } from '@msgpack/msgpack';
import type { z } from 'zod';
import type { MsgHdrsImpl } from '@nats-io/transport-node';
import { entryFrame } from '../../src/node/PlainEndpoint.js';
import { frameHeaders } from '../../src/transport/entryFrames.js';
import type { ReplicaMessage } from '../../src/replica/Replica.js';
import type { EntryResult } from '../../src/log/types.js';
import {
  decodeAppendReply,
  decodeAppendRequest,
  decodeReadReply,
  decodeReadRequest,
  decodeStatusReply,
  decodeStatusRequest,
  encodeAppendReply,
  encodeAppendRequest,
  encodeReadReply,
  encodeReadRequest,
  encodeStatusReply,
  encodeStatusRequest,
  errorReply,
  errorReplyFor,
} from '../../src/transport/clientWire.js';
import {
  type AppendRequest,
  appendEntryProblem,
  appendEntrySchema,
  appendReplyAccepted,
  appendReplySchema,
  appendRequestAccepted,
  appendRequestSchema,
  type ReadRequest,
} from '../../src/transport/clientSchemas.js';
import { appendSubject, isLogName, peerSubject, readSubject, statusSubject } from '../../src/transport/subjects.js';
import { decodePeerBatch, encodePeerBatch, encodePeerBatches, type PeerBatch, PROTOCOL_VERSION, type WireProblem, withChecksum } from '../../src/transport/wire.js';

const bytesMax = 1 << 20;
const ballot = { round: 3, replica: 1, incarnation: 2 ** 48 - 1 };
const leaseBallot = { round: 7, epoch: 2, replica: 1 };
const position = { committedInstance: 10, acceptedInstanceMax: 12 };
const value = {
  valueId: '3.1:11',
  timestampMs: 1_700_000_000_000,
  entries: [
    { data: new Uint8Array([1, 2, 3]), id: 'client-a:1', key: 'order-9', expectedOffset: 40 },
    { data: new Uint8Array([]) },
    { data: new Uint8Array([255]), key: 'only-key' },
  ],
};
const noop = { valueId: '3.1:12', timestampMs: 0, entries: [] };

/** One fixture per message type of src/log/messages.ts and src/election/messages.ts. */
const fixtures: Record<ReplicaMessage['type'], ReplicaMessage> = {
  probe: { type: 'probe', from: 1, floor: 300 },
  probed: { type: 'probed', from: 1, committedInstance: 10, acceptedInstanceMax: 12, promised: ballot },
  prepare: { type: 'prepare', from: 1, ballot, instanceFrom: 11 },
  promise: {
    type: 'promise',
    from: 1,
    ballot,
    instanceFrom: 11,
    records: [
      { instance: 11, ballot, value, chosen: false },
      { instance: 12, ballot: { round: 2, replica: 3, incarnation: 0 }, value: noop, chosen: true },
    ],
    instanceNext: 13,
    committedInstance: 10,
    compactedInstance: 4,
  },
  accept: { type: 'accept', from: 1, ballot, instance: 11, value },
  accepted: { type: 'accepted', from: 1, ballot, instance: 11 },
  reject: { type: 'reject', from: 1, ballot: { round: 0, replica: 0, incarnation: 0 }, promised: ballot },
  commit: { type: 'commit', from: 1, ballot, chosen: [{ instance: 11, valueId: '3.1:11' }], committedInstance: 10, tailPublisher: 2 },
  fetch: { type: 'fetch', from: 1, instanceFrom: 11 },
  fetched: { type: 'fetched', from: 1, values: [{ instance: 11, value }, { instance: 12, value: noop }], committedInstance: 12, compactedInstance: 3 },
  'lease-prepare': { type: 'lease-prepare', from: 1, ballot: leaseBallot, position },
  'lease-promise': { type: 'lease-promise', holding: false, from: 1, ballot: leaseBallot, lease: { holder: 2, ticksLeft: 150 }, position },
  'lease-propose': { type: 'lease-propose', from: 1, ballot: leaseBallot },
  'lease-accepted': { type: 'lease-accepted', from: 1, ballot: leaseBallot },
  'lease-reject': { type: 'lease-reject', from: 1, ballot: leaseBallot, promised: { round: 9, epoch: 1, replica: 3 }, reason: 'behind', position },
  'lease-release': { type: 'lease-release', from: 1, ballot: leaseBallot },
};

function batchOf(messages: readonly ReplicaMessage[]): PeerBatch {
  return { v: PROTOCOL_VERSION, log: 'orders', from: 1, to: 2, messages };
}

/** Encodes an arbitrary (possibly invalid) body the way a foreign or broken sender would. */
function raw(body: unknown): Uint8Array {
  return encode(body, { ignoreUndefined: true });
}

/** The same for a peer batch, with a valid CRC32 trailer so the decoder looks inside. */
function rawPeer(body: unknown): Uint8Array {
  return withChecksum(raw(body));
}

function assertProblem(bytes: Uint8Array, problem: WireProblem | 'checksum', options: { bytesMax?: number; detail?: RegExp } = {}): void {
  const decoded = decodePeerBatch(bytes, { bytesMax: options.bytesMax ?? bytesMax });
  assert.equal(decoded.ok, false, 'expected a decode failure');
  if (decoded.ok) return;
  assert.equal(decoded.problem, problem, decoded.detail);
  if (options.detail !== undefined) assert.match(decoded.detail, options.detail);
}

describe('peer batches', () => {
  for (const [type, message] of Object.entries(fixtures)) {
    it(`round-trip a ${type} message`, () => {
      const batch = batchOf([message]);
      const decoded = decodePeerBatch(encodePeerBatch(batch), { bytesMax });
      assert.ok(decoded.ok, decoded.ok ? '' : decoded.detail);
      assert.deepEqual(decoded.batch, batch);
      const typed: ReplicaMessage | undefined = decoded.batch.messages[0];
      assert.equal(typed?.type, type);
    });
  }

  it('round-trip every message type in one batch', () => {
    const batch = batchOf(Object.values(fixtures));
    const decoded = decodePeerBatch(encodePeerBatch(batch), { bytesMax });
    assert.ok(decoded.ok);
    assert.deepEqual(decoded.batch, batch);
  });

  it('leave absent optional fields absent, not undefined', () => {
    const withUndefined = { data: new Uint8Array([1]), id: undefined, key: undefined } as unknown as { data: Uint8Array };
    const accept: ReplicaMessage = { ...fixtures.accept, type: 'accept', ballot, from: 1, instance: 11, value: { ...value, entries: [withUndefined] } };
    const decoded = decodePeerBatch(encodePeerBatch(batchOf([accept])), { bytesMax });
    assert.ok(decoded.ok);
    const message = decoded.batch.messages[0];
    assert.ok(message?.type === 'accept');
    const entry = message.value.entries[0];
    assert.ok(entry !== undefined);
    assert.deepEqual(Object.keys(entry), ['data']);
    assert.equal('id' in entry, false);
    assert.equal('expectedOffset' in entry, false);
  });

  it('encode one broadcast for several peers into exactly the bytes of one batch each', () => {
    const messages = Object.values(fixtures);
    for (const log of ['orders', 'l'.repeat(31), 'l'.repeat(200)]) {
      for (const recipients of [[2, 3], [3, 2, 5, 127], [4], [2, 128], [300, 2]]) {
        const batches = encodePeerBatches({ v: PROTOCOL_VERSION, log, from: 1, messages }, recipients);
        assert.equal(batches.length, recipients.length);
        recipients.forEach((to, i) => {
          const one = encodePeerBatch({ v: PROTOCOL_VERSION, log, from: 1, to, messages });
          assert.deepEqual(batches[i], one, `${log.length}-character log, to ${to}`);
        });
      }
    }
    assert.deepEqual(encodePeerBatches({ v: PROTOCOL_VERSION, log: 'orders', from: 1, messages }, []), []);
  });

  it('carry an accept\'s value in its stored form: random values round-trip, and the follower keeps the bytes it got', async () => {
    const { valueEncode } = await import('../../src/storage/valueCodec.js');
    const { SeededRandom } = await import('../../src/log/random.js');
    const random = new SeededRandom(41);
    const texts = ['a', 'order-9', 'x'.repeat(31), 'y'.repeat(32), 'z'.repeat(256), 'é€注𝄞'];
    const numbers = [0, 1, 127, 128, 255, 256, 65_535, 65_536, 2 ** 32 - 1, 2 ** 32, 2 ** 48, 2 ** 53 - 1];
    for (let trial = 0; trial < 200; trial++) {
      const entries = Array.from({ length: random.int(0, trial % 10 === 0 ? 40 : 3) }, () => {
        const entry: { data: Uint8Array; id?: string; key?: string; expectedOffset?: number } = { data: new Uint8Array([0, 1, 255, 256, 70_000][random.int(0, 4)]!).fill(7) };
        if (random.next() < 0.6) entry.id = texts[random.int(0, texts.length - 1)]!;
        if (random.next() < 0.4) entry.key = texts[random.int(0, texts.length - 1)]!;
        if (random.next() < 0.3) entry.expectedOffset = numbers[random.int(0, numbers.length - 1)]!;
        return entry;
      });
      const accept: ReplicaMessage = { type: 'accept', from: 1, ballot: { round: 3, replica: 1, incarnation: 0 }, instance: random.int(1, 2 ** 40), value: { valueId: `3.1:${trial}`, entries, timestampMs: numbers[random.int(0, numbers.length - 1)]! } };
      const messages = random.next() < 0.5 ? [accept] : [fixtures.commit, accept, fixtures.accepted, accept];
      const decoded = decodePeerBatch(encodePeerBatch({ v: PROTOCOL_VERSION, log: 'orders', from: 1, to: 2, messages }), { bytesMax: 1 << 24 });
      assert.ok(decoded.ok, decoded.ok ? '' : decoded.detail);
      assert.deepEqual(decoded.batch.messages, messages, `trial ${trial}`);
      const received = decoded.batch.messages.find((message) => message.type === 'accept')!;
      assert.ok(received.type === 'accept');
      assert.deepEqual(valueEncode(received.value), valueEncode(accept.value), 'the stored form travels as it is');
    }
  });

  it('refuse an accept whose stored value is not one, naming what is wrong', async () => {
    const { Encoder } = await import('@msgpack/msgpack');
    const encoder = new Encoder();
    const data = new Uint8Array([1]);
    const cases: Array<[unknown, RegExp]> = [
      [[1, 5, [[data, 'x'.repeat(257), null, null]]], /id must be at most 256/],
      [[1, 5, [[data, null, 'k'.repeat(257), null]]], /key must be at most 256/],
      [[1, 5, [[data, null, null]]], /not a 4-tuple/],
      [[1, 5, [['text', null, null, null]]], /not a 4-tuple/],
      [[2, 5, []], /unknown value format/],
      [[1, -5, []], /bad value timestamp|timestamp/],
      [[1, 5, [[data, null, null, null]], 'extra'], /3-element/],
      [{ format: 1 }, /3-element/],
    ];
    // An array 32 header that claims 2^32 - 1 entries, with none after it.
    const claims = new Uint8Array([0x93, 0x01, 0x05, 0xdd, 0xff, 0xff, 0xff, 0xff]);
    const claimsAccept = { type: 'accept', from: 1, ballot, instance: 11, value: { valueId: '3.1:11', stored: claims } };
    assertProblem(rawPeer({ v: 1, log: 'orders', from: 1, to: 2, messages: [claimsAccept] }), 'schema', { detail: /4294967295 entries in 0 bytes/ });
    for (const [stored, problem] of cases) {
      const accept = { type: 'accept', from: 1, ballot, instance: 11, value: { valueId: '3.1:11', stored: encoder.encode(stored) } };
      assertProblem(rawPeer({ v: 1, log: 'orders', from: 1, to: 2, messages: [accept] }), 'schema', { detail: problem });
    }
    // An expected offset of 2^53 as uint 64 (the library would write a float, refused as not a uint).
    const unsafe = new Uint8Array([0x93, 0x01, 0x05, 0x91, 0x94, 0xc4, 0x01, 0x01, 0xc0, 0xc0, 0xcf, 0x00, 0x20, 0, 0, 0, 0, 0, 0]);
    const unsafeAccept = { type: 'accept', from: 1, ballot, instance: 11, value: { valueId: '3.1:11', stored: unsafe } };
    assertProblem(rawPeer({ v: 1, log: 'orders', from: 1, to: 2, messages: [unsafeAccept] }), 'schema', { detail: /safe integer/ });
    const entriesForm = { type: 'accept', from: 1, ballot, instance: 11, value };
    assertProblem(rawPeer({ v: 1, log: 'orders', from: 1, to: 2, messages: [entriesForm] }), 'schema');
  });

  it('copy entry data out of the received buffer: a received buffer changed afterwards changes no entry', () => {
    const bytes = encodePeerBatch(batchOf([fixtures.accept]));
    const decoded = decodePeerBatch(bytes, { bytesMax });
    assert.ok(decoded.ok && decoded.batch.messages[0]?.type === 'accept');
    const data = decoded.batch.messages[0].value.entries[0]?.data;
    assert.ok(data !== undefined);
    assert.equal(Object.getPrototypeOf(data), Uint8Array.prototype);
    const before = [...data];
    bytes.fill(0);
    assert.deepEqual([...data], before);
  });

  it('reject malformed msgpack', () => {
    assertProblem(new Uint8Array([0xc1]), 'malformed', { detail: /no room/ });
    assertProblem(withChecksum(new Uint8Array([0xc1, 0xc1])), 'malformed');
    const good = encodePeerBatch(batchOf([fixtures.fetch]));
    assertProblem(withChecksum(new Uint8Array([...good.subarray(0, good.byteLength - 4), 0x00])), 'malformed', { detail: /extra/i });
  });

  it('reject a batch whose CRC32 trailer does not match: truncated, extended or a flipped bit', () => {
    const good = encodePeerBatch(batchOf([fixtures.fetched]));
    assertProblem(good.subarray(0, 20), 'checksum');
    assertProblem(new Uint8Array([...good, 0x00]), 'checksum');
    const flipped = new Uint8Array(good);
    flipped[30] = flipped[30]! ^ 0x04;
    assertProblem(flipped, 'checksum');
    assert.ok(decodePeerBatch(good, { bytesMax }).ok);
  });

  it('reject a wrong protocol version before looking at the rest', () => {
    assertProblem(rawPeer({ v: 2, log: 'orders', from: 1, to: 2, messages: [{ type: 'from-the-future' }] }), 'version', { detail: /2/ });
    assertProblem(rawPeer({ v: '1', log: 'orders', from: 1, to: 2, messages: [] }), 'version');
  });

  it('reject an unknown message type, a missing field, a negative instance', () => {
    assertProblem(rawPeer(batchOf([{ type: 'bogus', from: 1 } as unknown as ReplicaMessage])), 'schema', { detail: /messages\.0/ });
    const { instance: _dropped, ...missing } = fixtures.accepted as { instance: number };
    assertProblem(rawPeer(batchOf([missing as unknown as ReplicaMessage])), 'schema', { detail: /messages\.0\.instance/ });
    assertProblem(rawPeer(batchOf([{ ...fixtures.accepted, instance: -1 } as ReplicaMessage])), 'schema', { detail: /instance/ });
  });

  it('reject fractions, nil optionals, unknown fields, bad log names, foreign senders, missing v', () => {
    assertProblem(rawPeer(batchOf([{ ...fixtures.fetch, instanceFrom: 1.5 } as ReplicaMessage])), 'schema');
    const nilId = { ...fixtures.fetched, values: [{ instance: 11, value: { ...value, entries: [{ data: new Uint8Array(), id: null }] } }] };
    assertProblem(rawPeer(batchOf([nilId as unknown as ReplicaMessage])), 'schema', { detail: /id/ });
    assertProblem(rawPeer(batchOf([{ ...fixtures.fetch, extra: 1 } as unknown as ReplicaMessage])), 'schema', { detail: /extra/ });
    assertProblem(rawPeer({ ...batchOf([]), log: 'a.b' }), 'schema', { detail: /log/ });
    assertProblem(rawPeer(batchOf([{ ...fixtures.fetch, from: 3 } as ReplicaMessage])), 'schema', { detail: /sender/ });
    assertProblem(rawPeer({ log: 'orders', from: 1, to: 2, messages: [] }), 'schema', { detail: /^v/ });
    assertProblem(rawPeer([1, 2, 3]), 'schema');
  });

  it('reject rounds and lease epochs above 2^48: a next ballot one above them must stay a safe integer', () => {
    const huge = Number.MAX_SAFE_INTEGER;
    assertProblem(rawPeer(batchOf([{ ...fixtures.prepare, ballot: { round: huge, replica: 1, incarnation: 0 } } as ReplicaMessage])), 'schema', { detail: /round/ });
    assertProblem(rawPeer(batchOf([{ ...fixtures['lease-prepare'], ballot: { ...leaseBallot, epoch: huge } } as ReplicaMessage])), 'schema', { detail: /epoch/ });
    assertProblem(rawPeer(batchOf([{ ...fixtures['lease-prepare'], ballot: { ...leaseBallot, round: 2 ** 48 + 1 } } as ReplicaMessage])), 'schema', { detail: /round/ });
    const edge = decodePeerBatch(encodePeerBatch(batchOf([{ ...fixtures.prepare, ballot: { round: 2 ** 48, replica: 1, incarnation: 2 ** 48 - 1 } } as ReplicaMessage])), { bytesMax });
    assert.ok(edge.ok);
    const incarnation = 2 ** 48;
    assertProblem(rawPeer(batchOf([{ ...fixtures.prepare, ballot: { round: 1, replica: 1, incarnation } } as ReplicaMessage])), 'schema', { detail: /incarnation/ });
    assertProblem(rawPeer(batchOf([{ ...fixtures.prepare, ballot: { round: 1, replica: 1 } } as unknown as ReplicaMessage])), 'schema', { detail: /incarnation/ });
  });

  it('enforce string and array bounds', () => {
    assertProblem(rawPeer(batchOf([{ ...fixtures.accept, value: { ...value, valueId: 'x'.repeat(129) } } as ReplicaMessage])), 'schema');
    const longId = { ...fixtures.accept, value: { ...value, entries: [{ data: new Uint8Array(), id: 'i'.repeat(257) }] } };
    assertProblem(rawPeer(batchOf([longId as ReplicaMessage])), 'schema');
    assertProblem(rawPeer(batchOf(Array.from({ length: 4097 }, () => fixtures.fetch))), 'schema', { detail: /messages/ });
  });

  it('reject an oversized payload before decoding it', () => {
    const bytes = encodePeerBatch(batchOf([fixtures.accept]));
    assertProblem(bytes, 'too-large', { bytesMax: bytes.byteLength - 1 });
    assert.ok(decodePeerBatch(bytes, { bytesMax: bytes.byteLength }).ok);
    assertProblem(new Uint8Array(100).fill(0xc1), 'too-large', { bytesMax: 99 });
  });
});

describe('client protocol', () => {
  it('round-trip append requests and replies', () => {
    const request: AppendRequest = { v: PROTOCOL_VERSION, log: 'orders', entries: value.entries };
    const bytes = encodeAppendRequest(request);
    const decoded = decodeAppendRequest(bytes, { bytesMax });
    assert.ok(decoded.ok);
    bytes.fill(0); // the received buffer, reused: no decoded entry sees it
    assert.deepEqual(decoded.request, request);
    assert.equal('id' in (decoded.request.entries[1] ?? {}), false);
    const results = [{ status: 'ok', offset: 4 }, { status: 'duplicate', offset: 2 }, { status: 'conflict', offsetNext: 5 }] as const;
    for (const reply of [{ v: PROTOCOL_VERSION, ok: true, results } as const, errorReply('not-leader', 'ask replica 2', 2)]) {
      const replied = decodeAppendReply(encodeAppendReply(reply), { bytesMax });
      assert.ok(replied.ok);
      assert.deepEqual(replied.reply, reply);
    }
  });

  it('write successful append replies byte by byte as the msgpack library writes them', async () => {
    const { wireEncode } = await import('../../src/transport/codec.js');
    const { SeededRandom } = await import('../../src/log/random.js');
    const random = new SeededRandom(51);
    const offsets = [0, 1, 127, 128, 255, 256, 65_535, 65_536, 2 ** 32 - 1, 2 ** 32, 2 ** 53 - 1];
    for (const count of [0, 1, 15, 16, 300, 65_536]) {
      const results: EntryResult[] = Array.from({ length: count }, () => {
        const offset = offsets[random.int(0, offsets.length - 1)]!;
        const status = (['ok', 'ok', 'duplicate', 'conflict'] as const)[random.int(0, 3)]!;
        return status === 'conflict' ? { status, offsetNext: offset } : { status, offset };
      });
      const reply = { v: PROTOCOL_VERSION, ok: true, results } as const;
      assert.deepEqual(Buffer.from(encodeAppendReply(reply)), Buffer.from(wireEncode(reply)), `${count} results`);
      const decoded = decodeAppendReply(encodeAppendReply(reply), { bytesMax: 1 << 24 });
      assert.ok(decoded.ok);
      assert.deepEqual(decoded.reply, reply);
    }
    const odd = { v: PROTOCOL_VERSION, ok: true, results: [{ status: 'ok', offset: 1.5 }] } as const;
    assert.deepEqual(Buffer.from(encodeAppendReply(odd)), Buffer.from(wireEncode(odd)), 'a fraction goes through the library');
  });

  it('refuse empty appends and empty ids or keys', () => {
    for (const entries of [[], [{ data: new Uint8Array(), id: '' }], [{ data: new Uint8Array(), key: '' }]]) {
      const decoded = decodeAppendRequest(raw({ v: 1, log: 'orders', entries }), { bytesMax });
      assert.equal(decoded.ok ? 'ok' : decoded.problem, 'schema');
    }
  });

  it('refuse ids that a NATS header or msgpack would not carry unchanged: control characters, surrounding whitespace, lone surrogates', () => {
    for (const id of ['bad\r\nPaxlog-Offset: 0', 'line\nbreak', 'tab\there', 'nul\u0000', 'del\u007f', ' lead', 'trail ', '\u00a0nbsp']) {
      const decoded = decodeAppendRequest(raw({ v: 1, log: 'orders', entries: [{ data: new Uint8Array(), id }] }), { bytesMax });
      assert.equal(decoded.ok ? 'ok' : decoded.problem, 'schema', JSON.stringify(id));
      assert.match(decoded.ok ? '' : decoded.detail, /control character|whitespace/);
    }
    // (A longer one never arrives as such: msgpack writers put U+FFFD in its place.)
    for (const id of ['\ud800', 'a\udc00b', `${'x'.repeat(40)}\ud83d`]) {
      const decoded = decodeAppendRequest(raw({ v: 1, log: 'orders', entries: [{ data: new Uint8Array(), id }] }), { bytesMax });
      assert.equal(decoded.ok ? 'ok' : decoded.problem, 'schema', JSON.stringify(id));
      assert.match(decoded.ok ? '' : decoded.detail, /lone surrogate/);
    }
    for (const id of ['order 42', 'ünïcödé-✓', 'a:b/c@d', 'x'.repeat(256), 'pair 😀 𝄞']) {
      const decoded = decodeAppendRequest(raw({ v: 1, log: 'orders', entries: [{ data: new Uint8Array(), id }] }), { bytesMax });
      assert.ok(decoded.ok, JSON.stringify(id));
    }
  });

  it('the one-pass request and reply checks accept only what their schemas accept, and the same body', () => {
    const data = new Uint8Array([1, 2]);
    const entry = { data, id: 'a-1', key: 'k.1', expectedOffset: 3 };
    const requests: unknown[] = [
      { v: 1, log: 'orders', entries: [entry, { data }] },
      { v: 1, log: 'orders', entries: [] },
      { v: 1, log: 'orders', entries: [entry], extra: 1 },
      { v: 1, log: 'orders' },
      { v: 2, log: 'orders', entries: [entry] },
      { v: 1, log: 'no such.log', entries: [entry] },
      { v: 1, log: 7, entries: [entry] },
      { v: 1, log: 'orders', entries: [{ data, id: '' }] },
      { v: 1, log: 'orders', entries: [{ data, key: 'a b' }] },
      { v: 1, log: 'orders', entries: { 0: entry } },
      [1, 'orders', [entry]],
    ];
    const replies: unknown[] = [
      { v: 1, ok: true, results: [{ status: 'ok', offset: 0 }, { status: 'duplicate', offset: 9 }, { status: 'conflict', offsetNext: 4 }] },
      { v: 1, ok: true, results: [] },
      { v: 1, ok: true, results: [{ status: 'ok', offsetNext: 1 }] },
      { v: 1, ok: true, results: [{ status: 'ok', offset: -1 }] },
      { v: 1, ok: true, results: [{ status: 'ok', offset: 1.5 }] },
      { v: 1, ok: true, results: [{ status: 'done', offset: 1 }] },
      { v: 1, ok: true, results: [{ status: 'ok', offset: 1, more: 1 }] },
      { v: 1, ok: true, results: [{ status: 'ok' }] },
      { v: 1, ok: true },
      { v: 1, ok: 'yes', results: [] },
      { v: 2, ok: true, results: [] },
      errorReply('not-leader', 'ask replica 2', 2),
    ];
    const cases = [
      { inputs: requests, accepted: appendRequestAccepted, schema: appendRequestSchema },
      { inputs: replies, accepted: appendReplyAccepted, schema: appendReplySchema },
    ];
    let acceptedCount = 0;
    for (const { inputs, accepted, schema } of cases) {
      for (const input of inputs) {
        const fast = accepted(input);
        const parsed = (schema as z.ZodType).safeParse(input);
        if (fast === null) continue;
        acceptedCount++;
        assert.ok(parsed.success, `one pass accepted what the schema refuses: ${JSON.stringify(input)}`);
        assert.deepEqual(fast, parsed.data);
      }
    }
    assert.equal(acceptedCount, 3, 'the valid request and the two valid replies take the one pass');
  });

  it('the one-pass entry checks (the request\'s and the producer\'s) refuse what appendEntrySchema refuses, and only that', () => {
    const fields = [
      { id: 'a\nb' }, { id: ' a' }, { id: '' }, { id: 'x'.repeat(257) }, { id: 7 }, { id: null }, { key: 'a b' }, { key: 'a..b' }, { key: '' }, { key: 'x'.repeat(257) },
      { expectedOffset: -1 }, { expectedOffset: 1.5 }, { expectedOffset: '3' }, { expectedOffset: null },
      { id: 'order 42' }, { id: 'x'.repeat(256) }, { key: 'eu.acct-1' }, { expectedOffset: 0 }, {},
    ];
    const data = new Uint8Array([1]);
    const entries: unknown[] = [...fields.map((f) => ({ data, ...f })), {}, { data: 'text' }, { data, extra: 1 }, [data], data, null, 3];
    for (const entry of entries) {
      const specified = appendEntrySchema.safeParse(entry).success;
      const decoded = decodeAppendRequest(raw({ v: 1, log: 'orders', entries: [entry] }), { bytesMax });
      assert.equal(decoded.ok, specified, `request: ${JSON.stringify(entry)}`);
    }
    for (const entry of fields) assert.equal(appendEntryProblem(entry as object) === null, appendEntrySchema.safeParse({ data, ...entry }).success, `producer: ${JSON.stringify(entry)}`);
    const refused = decodeAppendRequest(raw({ v: 1, log: 'orders', entries: [{ data }, { data, id: 'a\nb' }] }), { bytesMax });
    assert.equal(refused.ok ? '' : refused.detail, 'entries.1: an id cannot hold a control character (U+0000-U+001F, U+007F)');
  });

  it('give a stored id that no header can carry no Paxlog-Id header, and never throw for it', () => {
    const entry = (id: string) => ({ offset: 7, data: new Uint8Array([1]), id, key: 'acct.1', timestampMs: 1_000 });
    const unsafe = entryFrame(entry('written\r\nbefore the rule'), 'paxlog.t.entries.acct.1');
    assert.equal(unsafe.id, undefined);
    assert.equal(unsafe.offset, 7);
    assert.equal(unsafe.key, 'acct.1');
    assert.equal(entryFrame(entry('order 42'), 's').id, 'order 42');
    const headers = frameHeaders(entryFrame({ ...entry('order 42'), key: 'bad\r\nkey' }, 's')) as MsgHdrsImpl;
    assert.equal(new TextDecoder().decode(headers.encode()), 'NATS/1.0\r\nPaxlog-Offset: 7\r\nPaxlog-Timestamp: 1000\r\nPaxlog-Id: order 42\r\n\r\n');
  });

  it('round-trip read requests and replies', () => {
    const request: ReadRequest = { v: PROTOCOL_VERSION, log: 'orders', from: 0, limit: 100 };
    const decoded = decodeReadRequest(encodeReadRequest(request), { bytesMax });
    assert.ok(decoded.ok);
    assert.deepEqual(decoded.request, request);
    const reply = {
      v: PROTOCOL_VERSION,
      ok: true,
      entries: [
        { offset: 0, data: new Uint8Array([9]), id: 'a', key: 'k', timestampMs: 5 },
        { offset: 1, data: new Uint8Array([]), timestampMs: 6 },
      ],
      offsetNext: 2,
    } as const;
    const replied = decodeReadReply(encodeReadReply(reply), { bytesMax });
    assert.ok(replied.ok);
    assert.deepEqual(replied.reply, reply);
    const zeroLimit = decodeReadRequest(raw({ v: 1, log: 'orders', from: 0, limit: 0 }), { bytesMax });
    assert.equal(zeroLimit.ok ? 'ok' : zeroLimit.problem, 'schema');
    const badLog = decodeReadRequest(raw({ v: 1, log: 'no.dots', from: 0, limit: 1 }), { bytesMax });
    assert.equal(badLog.ok ? 'ok' : badLog.problem, 'schema');
    assert.equal(zeroLimit.ok ? 'ok' : zeroLimit.problem, 'schema');
  });

  it('round-trip status requests and replies', () => {
    const decoded = decodeStatusRequest(encodeStatusRequest({ v: PROTOCOL_VERSION, log: 'orders' }), { bytesMax });
    assert.ok(decoded.ok);
    assert.deepEqual(decoded.request, { v: 1, log: 'orders' });
    const reply = { v: PROTOCOL_VERSION, ok: true, status: { replica: 2, lease: null, positions: [1, 2] } } as const;
    const replied = decodeStatusReply(encodeStatusReply(reply), { bytesMax });
    assert.ok(replied.ok);
    assert.deepEqual(replied.reply, reply);
  });

  it('build error replies: hint omitted when unknown, message bounded, decode failures mapped', () => {
    assert.deepEqual(errorReply('overloaded', 'busy'), { v: 1, ok: false, error: { code: 'overloaded', message: 'busy' } });
    assert.equal('leaderHint' in errorReply('not-leader', 'no leader', null).error, false);
    assert.equal(errorReply('internal', 'x'.repeat(5000)).error.message.length, 1024);
    const failure = decodeAppendRequest(raw({ v: 9, entries: [] }), { bytesMax });
    assert.ok(!failure.ok);
    assert.equal(errorReplyFor(failure).error.code, 'version');
    const unknownCode = decodeAppendReply(raw({ v: 1, ok: false, error: { code: 'nope', message: '' } }), { bytesMax });
    assert.equal(unknownCode.ok ? 'ok' : unknownCode.problem, 'schema');
  });
});

describe('subjects', () => {
  it('build the documented subjects and refuse bad log names', () => {
    assert.equal(peerSubject({ log: 'orders', replica: 3 }), 'paxlog.orders.peer.3');
    assert.equal(appendSubject('orders'), 'paxlog.orders.append');
    assert.equal(readSubject('orders'), 'paxlog.orders.read');
    assert.equal(statusSubject('orders'), 'paxlog.orders.status');
    for (const bad of ['', 'a.b', 'a*', '>', 'a b', 'x'.repeat(65)]) {
      assert.equal(isLogName(bad), false, bad);
      assert.throws(() => appendSubject(bad), RangeError);
    }
    assert.equal(isLogName('A-z_09'), true);
    assert.throws(() => peerSubject({ log: 'orders', replica: 0 }), RangeError);
  });
});

describe('the fast entry check', () => {
  it('accepts and refuses exactly what the zod entry schema does', async () => {
    const { entryProblem, entrySchema } = await import('../../src/transport/schemas.js');
    const bin = new Uint8Array([1, 2]);
    const cases: unknown[] = [
      { data: bin },
      { data: bin, id: 'a', key: 'k', expectedOffset: 3 },
      { data: bin, id: '' },
      { data: bin, id: 'x'.repeat(256) },
      { data: bin, id: 'x'.repeat(257) },
      { data: bin, key: 'x'.repeat(257) },
      { data: bin, expectedOffset: -1 },
      { data: bin, expectedOffset: 1.5 },
      { data: bin, expectedOffset: 2 ** 53 },
      { data: bin, id: 7 },
      { data: bin, id: undefined },
      { data: bin, extra: 1 },
      { data: 'not binary' },
      { id: 'no data' },
      null,
      'entry',
      [bin],
    ];
    for (const input of cases) {
      assert.equal(entryProblem(input) === null, entrySchema.safeParse(input).success, `disagree on ${JSON.stringify(input)}`);
    }
  });
});

describe('the fast committed-entry check', () => {
  it('accepts and refuses exactly what the zod committed-entry rules do', async () => {
    const { committedEntryProblem } = await import('../../src/transport/clientSchemas.js');
    const { z } = await import('zod');
    const strict = z.strictObject({
      offset: z.int().nonnegative(),
      data: z.instanceof(Uint8Array),
      id: z.string().max(256).exactOptional(),
      key: z.string().max(256).exactOptional(),
      timestampMs: z.int().nonnegative(),
    });
    const bin = new Uint8Array([1]);
    const cases: unknown[] = [
      { offset: 0, data: bin, timestampMs: 5 },
      { offset: 3, data: bin, id: 'a', key: 'k', timestampMs: 5 },
      { offset: -1, data: bin, timestampMs: 5 },
      { offset: 0, data: bin },
      { offset: 0, data: bin, timestampMs: 1.5 },
      { offset: 0, data: 'x', timestampMs: 1 },
      { offset: 0, data: bin, timestampMs: 1, extra: true },
      { offset: 0, data: bin, timestampMs: 1, id: 'x'.repeat(257) },
      { offset: 0, data: bin, timestampMs: 1, id: undefined },
      null,
    ];
    for (const input of cases) assert.equal(committedEntryProblem(input) === null, strict.safeParse(input).success, `disagree on ${JSON.stringify(input)}`);
  });
});

describe('read replies', () => {
  it('hand out plain Uint8Array data whatever buffer type the reply arrived in', async () => {
    const { encodeReadReply, decodeReadReply } = await import('../../src/transport/clientWire.js');
    const bytes = encodeReadReply({ v: 1, ok: true, entries: [{ offset: 0, data: new Uint8Array([7, 8]), timestampMs: 1 }], offsetNext: 1 });
    for (const input of [bytes, Buffer.from(bytes)]) {
      const decoded = decodeReadReply(input, { bytesMax: 1 << 20 });
      assert.ok(decoded.ok && decoded.reply.ok);
      const data = decoded.reply.entries[0]!.data;
      assert.equal(Object.getPrototypeOf(data), Uint8Array.prototype);
      assert.deepEqual(data, new Uint8Array([7, 8]));
    }
  });
});

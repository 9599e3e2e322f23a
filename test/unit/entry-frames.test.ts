import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MsgHdrsImpl, type NatsConnection } from '@nats-io/transport-node';
import { type EntryFrame, publishFrames } from '../../src/transport/entryFrames.js';

/**
 * What nats.js writes for `nc.publish(subject, data, { headers })` (ProtocolHandler.publish):
 * the HPUB line, the header block as MsgHdrsImpl encodes it, the body and a CRLF.
 */
function natsJsFrame(frame: EntryFrame): Buffer {
  const record: Record<string, string[]> = { 'Paxlog-Offset': [String(frame.offset)], 'Paxlog-Timestamp': [String(frame.timestampMs)] };
  if (frame.id !== undefined) record['Paxlog-Id'] = [frame.id];
  if (frame.key !== undefined) record['Paxlog-Key'] = [frame.key];
  const headerBytes = (MsgHdrsImpl.fromRecord(record) as MsgHdrsImpl).encode();
  const line = `HPUB ${frame.subject} ${headerBytes.length} ${headerBytes.length + frame.data.length}\r\n`;
  return Buffer.concat([Buffer.from(line), headerBytes, frame.data, Buffer.from('\r\n')]);
}

/** A connection whose protocol writer records the commands it is handed. */
function fakeConnection(options: { payloadMax: number; closed?: boolean; drained?: boolean }) {
  const commands: Uint8Array[] = [];
  const protocol = {
    sendCommand: (command: Uint8Array) => void commands.push(Uint8Array.from(command)),
    info: { max_payload: options.payloadMax, headers: true },
    outMsgs: 0,
    noMorePublishing: options.drained === true,
  };
  const nc = { protocol, isClosed: () => options.closed === true } as unknown as NatsConnection;
  return { nc, commands, protocol };
}

const frame = (offset: number, extra: Partial<EntryFrame> = {}): EntryFrame => ({
  subject: 'paxlog.orders.entries.eu.acct-1',
  offset,
  timestampMs: 1_795_840_871_422 + offset,
  id: `ordre-é-${offset}`,
  key: 'eu.acct-1',
  data: new Uint8Array(100).fill(offset % 251),
  ...extra,
});

describe('publishFrames', () => {
  it('writes the bytes nats.js would publish, for ASCII and UTF-8 headers, absent ones, empty bodies and chunks', () => {
    const frames = [frame(0), frame(1, { data: new Uint8Array(0), id: undefined }), frame(2 ** 53 - 1, { key: undefined, timestampMs: 0 }), ...Array.from({ length: 5_000 }, (_, i) => frame(i + 2))];
    const { nc, commands, protocol } = fakeConnection({ payloadMax: 1 << 20 });
    assert.deepEqual(publishFrames(nc, frames), { sent: frames.length, refused: 0 });
    assert.ok(commands.length > 1, `5,003 frames of about 230 bytes go in chunks of at most 256 KiB (${commands.length})`);
    assert.ok(commands.every((command) => command.byteLength <= (256 << 10) + 1_024));
    assert.deepEqual(Buffer.concat(commands), Buffer.concat(frames.map(natsJsFrame)));
    assert.equal(protocol.outMsgs, frames.length);
  });

  it('refuses a frame over max_payload, a subject with whitespace and a header with a line break, and sends the rest', () => {
    const big = frame(1, { data: new Uint8Array(2_000) });
    const spaced = frame(2, { subject: 'paxlog.orders.entries.a b' });
    const broken = frame(3, { id: 'a\r\nPUB x 1' });
    const brokenKey = frame(5, { key: 'k\n' });
    const { nc, commands } = fakeConnection({ payloadMax: 1_000 });
    assert.deepEqual(publishFrames(nc, [frame(0), big, spaced, broken, brokenKey, frame(4)]), { sent: 2, refused: 4 });
    assert.deepEqual(Buffer.concat(commands), Buffer.concat([frame(0), frame(4)].map(natsJsFrame)));
  });

  it('refuses every frame on a closed or drained connection, and publishes one by one without a protocol writer', () => {
    const closed = fakeConnection({ payloadMax: 1 << 20, closed: true });
    assert.deepEqual(publishFrames(closed.nc, [frame(0), frame(1)]), { sent: 0, refused: 2 });
    assert.equal(closed.commands.length, 0);
    const drained = fakeConnection({ payloadMax: 1 << 20, drained: true });
    assert.deepEqual(publishFrames(drained.nc, [frame(0)]), { sent: 0, refused: 1 });
    assert.equal(drained.commands.length, 0);
    const published: Array<{ subject: string; id: string | undefined }> = [];
    const plain = {
      isClosed: () => false,
      publish: (subject: string, _data: Uint8Array, options: { headers: MsgHdrsImpl }) => {
        if (subject.includes(' ')) throw new Error('bad subject');
        published.push({ subject, id: options.headers.get('Paxlog-Id') });
      },
    } as unknown as NatsConnection;
    assert.deepEqual(publishFrames(plain, [frame(0), frame(1, { subject: 'a b' })]), { sent: 1, refused: 1 });
    assert.deepEqual(published, [{ subject: 'paxlog.orders.entries.eu.acct-1', id: 'ordre-é-0' }]);
  });
});

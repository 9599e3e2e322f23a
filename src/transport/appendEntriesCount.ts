import { wireLimits } from './wireLimits.js';

/** The fewest bytes an append request's entry takes in msgpack: `{data: <empty bin>}`. */
export const entryWireBytesMin = 8;

/** Top-level fields an append request may put before `entries` and still be peeked. */
const fieldsPeekedMax = 8;

/**
 * How many entries an encoded append request holds, read from its `entries` array header without
 * decoding anything else, so a replica can refuse a flood for the cost of a reply. When the
 * request is not laid out as expected (`entries` not its last field, a field before it that is not
 * a number or a short string, or no `entries` at all) it answers the most entries the request's
 * bytes could hold, so the answer is never below the count the full decode will find.
 */
export function appendEntriesCount(bytes: Uint8Array): number {
  const peeked = peekEntriesCount(bytes);
  const bound = Math.min(wireLimits.entriesMax, Math.ceil(bytes.byteLength / entryWireBytesMin));
  return peeked === null ? bound : Math.min(peeked, bound);
}

function peekEntriesCount(bytes: Uint8Array): number | null {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 0;
  const head = bytes[at++];
  if (head === undefined || head < 0x80 || head > 0x8f) return null; // fixmap only: a request has 3 fields
  const fields = head & 0x0f;
  for (let field = 0; field < Math.min(fields, fieldsPeekedMax); field++) {
    const name = readShortString(bytes, at);
    if (name === null) return null;
    at = name.next;
    // Only as the last field: a later duplicate `entries` would replace this one when decoded.
    if (name.text === 'entries') return field === fields - 1 ? readArrayLength(view, at) : null;
    const next = skipScalar(view, at);
    if (next === null) return null;
    at = next;
  }
  return null;
}

function readShortString(bytes: Uint8Array, at: number): { text: string; next: number } | null {
  const head = bytes[at];
  if (head === undefined || head < 0xa0 || head > 0xbf) return null;
  const length = head & 0x1f;
  if (at + 1 + length > bytes.byteLength) return null;
  let text = '';
  for (let i = 0; i < length; i++) text += String.fromCharCode(bytes[at + 1 + i]!);
  return { text, next: at + 1 + length };
}

function readArrayLength(view: DataView, at: number): number | null {
  if (at >= view.byteLength) return null;
  const head = view.getUint8(at);
  if (head >= 0x90 && head <= 0x9f) return head & 0x0f;
  if (head === 0xdc && at + 3 <= view.byteLength) return view.getUint16(at + 1);
  if (head === 0xdd && at + 5 <= view.byteLength) return view.getUint32(at + 1);
  return null;
}

/** Past one nil, boolean, number or string; null for anything else or a value cut short. */
function skipScalar(view: DataView, at: number): number | null {
  if (at >= view.byteLength) return null;
  const head = view.getUint8(at);
  let next: number;
  if (head <= 0x7f || head >= 0xe0 || head === 0xc0 || head === 0xc2 || head === 0xc3) next = at + 1;
  else if (head >= 0xa0 && head <= 0xbf) next = at + 1 + (head & 0x1f);
  else if (head === 0xcc || head === 0xd0) next = at + 2;
  else if (head === 0xcd || head === 0xd1) next = at + 3;
  else if (head === 0xce || head === 0xd2 || head === 0xca) next = at + 5;
  else if (head === 0xcf || head === 0xd3 || head === 0xcb) next = at + 9;
  else if (head === 0xd9 && at + 2 <= view.byteLength) next = at + 2 + view.getUint8(at + 1);
  else if (head === 0xda && at + 3 <= view.byteLength) next = at + 3 + view.getUint16(at + 1);
  else return null;
  return next <= view.byteLength ? next : null;
}

import { assert } from '../log/assert.js';

/**
 * What a decoded entry holds in memory while its append waits (the entry object, its data's
 * Uint8Array, its id), at the least: a request of tiny entries takes 30 times its wire size.
 */
export const pendingEntryBytes = 256;

/**
 * The memory of the appends one log's replica holds at once, from their arrival until they are
 * answered, kept within `bytesMax`: each append counts its request's bytes or pendingEntryBytes a
 * entry, whichever is more (the msgpack endpoint counts entries by the request's array header,
 * never fewer than the decode finds). A flood is refused as overloaded before it is decoded, for
 * the cost of a reply. A request alone is always admitted, so no single append is refused for its
 * size here.
 */
export class AppendAdmission {
  private bytesHeld = 0;

  /** What an append of `entries` entries, `wireBytes` on the wire, counts against the bound. */
  static pendingBytes(options: { wireBytes: number; entries: number }): number {
    return Math.max(options.wireBytes, options.entries * pendingEntryBytes);
  }

  constructor(readonly bytesMax: number) {
    assert(Number.isSafeInteger(bytesMax) && bytesMax >= 1, `AppendAdmission bytesMax ${bytesMax}`);
  }

  get bytes(): number {
    return this.bytesHeld;
  }

  /** The text of the overloaded reply to an append refused here. */
  get refusal(): string {
    return `${Math.floor(this.bytesMax / 2 ** 20)} MiB of appends are already waiting here; try again shortly`;
  }

  /** Whether `bytes` more would fit now (takes nothing). */
  hasRoom(bytes: number): boolean {
    return this.bytesHeld === 0 || this.bytesHeld + bytes <= this.bytesMax;
  }

  /** Takes `bytes` while they fit; the release (idempotent) gives them back once answered. Null: refuse. */
  admit(bytes: number): (() => void) | null {
    assert(Number.isSafeInteger(bytes) && bytes >= 0, `AppendAdmission admit ${bytes}`);
    if (!this.hasRoom(bytes)) return null;
    this.bytesHeld += bytes;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.bytesHeld -= bytes;
      assert(this.bytesHeld >= 0, `AppendAdmission holds ${this.bytesHeld} bytes`);
    };
  }
}

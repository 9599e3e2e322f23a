import { assert } from '../log/assert.js';

/**
 * The request bytes of the appends one log's replica holds at once, from arrival (before they are
 * decoded) until they are answered, kept within `bytesMax`: a flood of appends is refused as
 * overloaded for the cost of a reply, instead of being decoded into memory several times its size.
 * A request alone is always admitted, so no single append is refused for its size here.
 */
export class AppendAdmission {
  private bytesHeld = 0;

  constructor(private readonly bytesMax: number) {
    assert(Number.isSafeInteger(bytesMax) && bytesMax >= 1, `AppendAdmission bytesMax ${bytesMax}`);
  }

  get bytes(): number {
    return this.bytesHeld;
  }

  /** Takes `bytes` while they fit; the release (idempotent) gives them back once answered. Null: refuse. */
  admit(bytes: number): (() => void) | null {
    assert(Number.isSafeInteger(bytes) && bytes >= 0, `AppendAdmission admit ${bytes}`);
    if (this.bytesHeld > 0 && this.bytesHeld + bytes > this.bytesMax) return null;
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

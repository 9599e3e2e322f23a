/**
 * The wire protocol's version and its fixed bounds. These bound what a decoder accepts, whatever
 * the configured Paxos limits are; a configured limit above a wire bound cannot be sent.
 * Changing any of them, or any message shape, means a new PROTOCOL_VERSION.
 */
export const PROTOCOL_VERSION = 1;

export const wireLimits = Object.freeze({
  /** Characters in a value id (`<round>.<replica>:<instance>`). */
  valueIdCharsMax: 128,
  /** Characters in an entry's client id. */
  idCharsMax: 256,
  /** Characters in an entry's key. */
  keyCharsMax: 256,
  /** The longest a read may wait for new entries (a long poll). */
  waitMsMax: 60_000,
  /** Characters in an error reply's message. */
  errorMessageCharsMax: 1024,
  /** Consensus messages in one peer batch. */
  batchMessagesMax: 4096,
  /** Records in a promise, values in a fetched, instances in a commit notice. */
  messageItemsMax: 4096,
  /** Entries in one value, one append request, one read reply. */
  entriesMax: 65536,
  /** Keys in any msgpack map (a status reply is the widest), to refuse hostile input early. */
  mapKeysMax: 4096,
  /**
   * The smallest max_payload a NATS server may have for paxlog (its default, 1 MiB): batches
   * (256 KiB), promise, fetched and read pages (512 KiB) and snapshot chunks are sized to fit it.
   */
  natsPayloadBytesMin: 1 << 20,
});

export type WireLimits = typeof wireLimits;

/**
 * Stored bytes that fail their checksum (or decode to something that cannot be what was written).
 * Never an operating condition to retry: the driver treats it as fatal and the replica must be
 * rebuilt from its peers. `table` and `key` name the damaged row.
 */
export class CorruptionError extends Error {
  override readonly name = 'CorruptionError';
  readonly table: string;
  readonly key: string;

  constructor(options: { table: string; key: string; detail: string }) {
    super(`corrupt row in table ${options.table} at ${options.key}: ${options.detail}`);
    this.table = options.table;
    this.key = options.key;
  }
}

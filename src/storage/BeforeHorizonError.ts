/** A read from below the retention horizon: those entries are gone, and `offsetFirst` is the first one kept. */
export class BeforeHorizonError extends Error {
  override readonly name = 'BeforeHorizonError';
  readonly from: number;
  readonly offsetFirst: number;

  constructor(options: { from: number; offsetFirst: number }) {
    super(`offset ${options.from} is before the retention horizon: the first offset kept is ${options.offsetFirst}`);
    this.from = options.from;
    this.offsetFirst = options.offsetFirst;
  }
}

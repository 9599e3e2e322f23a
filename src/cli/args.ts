/** The NATS server a client command uses: `--nats`, else a local server on the default port. */
export function natsUrlOf(values: Record<string, string | boolean | undefined>): string {
  const url = values['nats'];
  return typeof url === 'string' ? url : 'nats://127.0.0.1:4222';
}

/** "1,2,3" → [1, 2, 3]; a bad item stays NaN so the config check names the field. */
export function intList(text: string): number[] {
  return text.split(',').map((item) => Number(item.trim()));
}

export function textList(text: string): string[] {
  return text.split(',').map((item) => item.trim()).filter((item) => item.length > 0);
}

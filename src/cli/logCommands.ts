import { createInterface } from 'node:readline';
import { ConflictError, PaxlogClient, type StreamEntry } from '../client/PaxlogClient.js';
import { clientConnect } from './args.js';

export const logCommandsUsage = `paxlog append --nats URL [--log LOG] [--key K] [--id ID] [--expected-offset N] [--json] [TEXT ...]
  Appends each TEXT as an entry, or each line of stdin when no TEXT is given.
paxlog tail --nats URL [--log LOG] [--from N] [--key K] [--json]
  Streams committed entries from offset N (default 0), then follows the log until Ctrl-C.
paxlog read --nats URL [--log LOG] [--from N] [--limit N] [--json]
  Prints one page of committed entries.
These, and paxlog status, also take the NATS access flags of paxlog node: --nats-creds FILE,
--nats-nkey FILE, --nats-tls-ca FILE, --nats-tls-cert FILE and --nats-tls-key FILE.`;

type Values = Record<string, string | boolean | undefined>;

function text(values: Values, name: string): string | undefined {
  const value = values[name];
  return typeof value === 'string' ? value : undefined;
}

async function client(values: Values): Promise<PaxlogClient> {
  return clientConnect(values, { log: text(values, 'log') ?? 'default', name: 'paxlog-cli' });
}

function show(entry: StreamEntry | { offset: number; key?: string | undefined; id?: string | undefined; data: Uint8Array; timestampMs: number }, json: boolean): string {
  const timestamp = 'timestamp' in entry ? entry.timestamp : entry.timestampMs;
  const data = new TextDecoder().decode(entry.data);
  if (json) return JSON.stringify({ offset: entry.offset, key: entry.key ?? null, id: entry.id ?? null, timestamp, data });
  const key = entry.key === undefined ? '' : ` [${entry.key}]`;
  return `${String(entry.offset).padStart(8)}  ${new Date(timestamp).toISOString()}${key}  ${data}`;
}

/** `paxlog append`: from arguments, or one entry per stdin line. */
export async function appendCommand(values: Values, positionals: string[]): Promise<number> {
  const c = await client(values);
  const json = values['json'] === true;
  const expected = text(values, 'expected-offset');
  let failures = 0;
  const appendOne = async (line: string, index: number) => {
    const id = text(values, 'id');
    try {
      const result = await c.append(new TextEncoder().encode(line), {
        ...(text(values, 'key') === undefined ? {} : { key: text(values, 'key')! }),
        ...(id === undefined ? {} : { id: index === 0 ? id : `${id}-${index}` }),
        ...(expected === undefined ? {} : { expectedOffset: Number(expected) + index }),
      });
      process.stdout.write(json ? `${JSON.stringify({ ok: true, ...result })}\n` : `appended at offset ${result.offset}${result.duplicate ? ' (duplicate id: already committed)' : ''}\n`);
    } catch (error) {
      failures++;
      const conflict = error instanceof ConflictError ? { offsetNext: error.offsetNext } : {};
      const message = (error as Error).message;
      process.stdout.write(json ? `${JSON.stringify({ ok: false, error: (error as { code?: string }).code ?? 'error', message, ...conflict })}\n` : `refused: ${message}\n`);
    }
  };
  try {
    if (positionals.length > 0) {
      for (const [index, line] of positionals.entries()) await appendOne(line, index);
    } else {
      let index = 0;
      for await (const line of createInterface({ input: process.stdin })) if (line.length > 0) await appendOne(line, index++);
    }
  } finally {
    await c.close();
  }
  return failures === 0 ? 0 : 1;
}

/** `paxlog tail`: replay from an offset, then follow. */
export async function tailCommand(values: Values): Promise<number> {
  const c = await client(values);
  const json = values['json'] === true;
  const key = text(values, 'key');
  const stop = new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  const iterator = c.entries({ from: Number(text(values, 'from') ?? '0'), ...(key === undefined ? {} : { key }) });
  const run = (async () => {
    for await (const entry of iterator) process.stdout.write(`${show(entry, json)}\n`);
  })();
  await Promise.race([stop, run]);
  await c.close();
  return 0;
}

/** `paxlog read`: one page. */
export async function readCommand(values: Values): Promise<number> {
  const c = await client(values);
  try {
    const page = await c.read({ from: Number(text(values, 'from') ?? '0'), limit: Number(text(values, 'limit') ?? '100') });
    const json = values['json'] === true;
    for (const entry of page.entries) process.stdout.write(`${show(entry, json)}\n`);
    if (!json) process.stdout.write(`(${page.entries.length} entries; next offset ${page.offsetNext})\n`);
    return 0;
  } finally {
    await c.close();
  }
}

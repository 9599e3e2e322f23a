import { PaxlogClient } from '../client/PaxlogClient.js';

export const statusUsage = `paxlog status --nats URL [--log LOG] [--json]
Prints, per replica: the lease holder and its remaining time, committed and accepted instances,
the committed offset and the lag behind the most advanced replica.`;

type Row = Record<string, unknown>;

function cell(value: unknown): string {
  return value === null || value === undefined ? '-' : String(value);
}

/** The status table; one line per replica that answered. */
export function statusTable(statuses: readonly Row[]): string {
  const committedMax = Math.max(0, ...statuses.map((s) => Number(s['committedInstance'] ?? 0)));
  const header = ['replica', 'serving', 'lease holder', 'lease left ms', 'committed inst', 'accepted inst', 'committed offset', 'lag inst'];
  const rows = statuses.map((s) => {
    const lease = (s['lease'] ?? null) as Row | null;
    return [
      cell(s['id']),
      s['serving'] === true ? 'yes' : 'no',
      cell(lease?.['holder']),
      lease?.['isHolder'] === true ? cell(lease['msLeft']) : '-',
      cell(s['committedInstance']),
      cell(s['acceptedInstanceMax']),
      cell(s['offsetNext']),
      cell(committedMax - Number(s['committedInstance'] ?? 0)),
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ');
  return [line(header), ...rows.map(line)].join('\n');
}

export async function statusCommand(values: Record<string, string | boolean | undefined>): Promise<number> {
  const servers = typeof values['nats'] === 'string' ? values['nats'] : 'nats://127.0.0.1:4222';
  const log = typeof values['log'] === 'string' ? values['log'] : 'default';
  const client = await PaxlogClient.connect({ servers, log, name: 'paxlog-status' });
  try {
    const statuses = await client.status({ waitMs: 500 });
    if (values['json'] === true) process.stdout.write(`${JSON.stringify(statuses, null, 2)}\n`);
    else process.stdout.write(`log ${log}: ${statuses.length} replicas answered\n${statusTable(statuses)}\n`);
    return statuses.length > 0 ? 0 : 1;
  } finally {
    await client.close();
  }
}

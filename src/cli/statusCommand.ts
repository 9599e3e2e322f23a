import { clientConnect } from './args.js';

export const statusUsage = `paxlog status --nats URL [--log LOG] [--json] [--watch]
Prints, per replica: whether it serves, votes and publishes the plain live tail, the lease
holder and its remaining time, committed and accepted instances, the committed offset, the first
offset retention keeps, and the lag behind the most advanced replica; then a progress bar for
each replica catching up (by log transfer or by snapshot), and a warning when the replicas run
different retention policies.
--watch prints it again every second until interrupted.`;

type Row = Record<string, unknown>;

function cell(value: unknown): string {
  return value === null || value === undefined ? '-' : String(value);
}

/** The status table; one line per replica that answered. */
export function statusTable(statuses: readonly Row[]): string {
  const committedMax = Math.max(0, ...statuses.map((s) => Number(s['committedInstance'] ?? 0)));
  const header = ['replica', 'serving', 'vote', 'tail', 'lease holder', 'lease left ms', 'committed inst', 'accepted inst', 'committed offset', 'first offset', 'lag inst'];
  const rows = statuses.map((s) => {
    const lease = (s['lease'] ?? null) as Row | null;
    return [
      cell(s['id']),
      s['serving'] === true ? 'yes' : 'no',
      s['rebuilding'] === null || s['rebuilding'] === undefined ? 'yes' : 'rebuilding',
      s['publishesTail'] === true ? 'yes' : 'no',
      cell(lease?.['holder']),
      lease?.['isHolder'] === true ? cell(lease['msLeft']) : '-',
      cell(s['committedInstance']),
      cell(s['acceptedInstanceMax']),
      cell(s['offsetNext']),
      cell(s['horizonOffset']),
      cell(committedMax - Number(s['committedInstance'] ?? 0)),
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ');
  const bars = statuses.map(progressLine).filter((l): l is string => l !== null);
  const retention = retentionMismatchLine(statuses);
  return [line(header), ...rows.map(line), ...bars, ...(retention === null ? [] : [retention])].join('\n');
}

/**
 * A warning when the replicas that answered run different retention policies (paxlog does not
 * stop them): they then truncate at different offsets, and a read or a stream that moves to
 * another replica may meet another horizon. Null when they agree.
 */
export function retentionMismatchLine(statuses: readonly Row[]): string | null {
  const policies = statuses.filter((s) => typeof s['retention'] === 'string');
  if (new Set(policies.map((s) => s['retention'])).size <= 1) return null;
  return `warning: the replicas run different retention policies (${policies.map((s) => `replica ${cell(s['id'])}: ${String(s['retention'])}`).join('; ')}); give every replica the same --retain-* flags`;
}

const barWidth = 30;

function bar(done: number, total: number): string {
  const ratio = total <= 0 ? 0 : Math.min(1, Math.max(0, done / total));
  const filled = Math.round(ratio * barWidth);
  return `[${'#'.repeat(filled)}${'.'.repeat(barWidth - filled)}] ${(ratio * 100).toFixed(0).padStart(3)}%`;
}

function megabytes(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

/** A progress bar for a replica catching up, or null when it is caught up. */
export function progressLine(s: Row): string | null {
  const catchUp = (s['catchUp'] ?? null) as Row | null;
  if (catchUp === null || catchUp['state'] === 'caught-up') return null;
  const id = cell(s['id']);
  const snapshot = (catchUp['snapshot'] ?? null) as Row | null;
  if (catchUp['state'] === 'snapshot' && snapshot !== null) {
    const done = Number(snapshot['bytesDone'] ?? 0);
    const total = Number(snapshot['bytesTotal'] ?? 0);
    const rate = Number(snapshot['bytesPerSec'] ?? 0);
    return `replica ${id} installing a snapshot from ${cell(snapshot['source'])}: ${bar(done, total)} ${megabytes(done)} of ${megabytes(total)}, ${megabytes(rate)}/s`;
  }
  const committed = Number(s['committedInstance'] ?? 0);
  const behind = Number(catchUp['instancesBehind'] ?? 0);
  const rate = Number(catchUp['instancesPerSec'] ?? 0);
  return `replica ${id} fetching the log from ${cell(catchUp['fetchPeer'])}: ${bar(committed, committed + behind)} ${behind} instances behind, ${rate} instances/s`;
}

export async function statusCommand(values: Record<string, string | boolean | undefined>): Promise<number> {
  const log = typeof values['log'] === 'string' ? values['log'] : 'default';
  const client = await clientConnect(values, { log, name: 'paxlog-status' });
  try {
    for (;;) {
      const statuses = await client.status({ waitMs: 500 });
      if (values['json'] === true) process.stdout.write(`${JSON.stringify(statuses, null, 2)}\n`);
      else process.stdout.write(`log ${log}: ${statuses.length} replicas answered\n${statusTable(statuses)}\n`);
      if (values['watch'] !== true) return statuses.length > 0 ? 0 : 1;
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      process.stdout.write('\n');
    }
  } finally {
    await client.close();
  }
}

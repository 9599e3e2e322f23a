/**
 * What idle logs cost: a cluster hosting `logs` logs, every one with a leader and nothing to do,
 * measured for `seconds` by the CPU its processes use (utime + stime from /proc). Each idle log's
 * leader renews its lease and sends a heartbeat to each follower; each replica runs a clock per
 * log. Reported as the mean replica's share of a core, and nats-server's.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { PaxlogClient } from '../src/client/PaxlogClient.js';
import { DevCluster } from '../src/dev/DevCluster.js';

/** Clock ticks per second of /proc/<pid>/stat's utime and stime (USER_HZ, 100 on Linux). */
const userHz = 100;
const leaderWaitMsMax = 120_000;

function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / userHz;
}

async function leadersWait(client: PaxlogClient, logs: readonly string[]): Promise<void> {
  const deadline = Date.now() + leaderWaitMsMax;
  for (const log of logs) {
    const forLog = client.forLog(log);
    while (!(await forLog.status({ waitMs: 200 })).some((s) => s['serving'] === true)) {
      if (Date.now() > deadline) throw new Error(`idle logs: no leader for ${log} within ${leaderWaitMsMax} ms`);
    }
  }
}

export async function idleLogsRun(options: { logs: number; seconds: number }): Promise<Record<string, number>> {
  const logs = Array.from({ length: options.logs }, (_, i) => `idle${i}`);
  const dataDir = mkdtempSync(join(tmpdir(), 'paxlog-bench-idle-'));
  const cluster = await DevCluster.start({ dataDir, logs, logLevel: 'warn' });
  const client = await PaxlogClient.connect({ servers: cluster.url, log: logs[0]! });
  try {
    await leadersWait(client, logs);
    await sleep(2_000); // elections and their writes settle
    const pids = [...cluster.processes.values()].map((child) => child.pid!);
    const natsPid = cluster.nats.pid!;
    const before = [...pids, natsPid].map(cpuSeconds);
    await sleep(options.seconds * 1_000);
    const after = [...pids, natsPid].map(cpuSeconds);
    const share = (i: number): number => (100 * (after[i]! - before[i]!)) / options.seconds;
    const replicasMean = pids.reduce((sum, _pid, i) => sum + share(i), 0) / pids.length;
    return {
      [`idle, ${options.logs} logs: each replica, % of a core`]: replicasMean,
      [`idle, ${options.logs} logs: nats-server, % of a core`]: share(pids.length),
    };
  } finally {
    await client.close();
    await cluster.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { PaxlogClient } from '../../src/client/PaxlogClient.js';
import { DevCluster } from '../../src/dev/DevCluster.js';
import { appendMany, verifyReplicas, waitFor } from '../helpers/clusterChecks.js';

const log = 'orders';

describe('a full disk stops that replica loudly; it never answers as if the write had succeeded', () => {
  it('replica 3 on a 1 MiB tmpfs exits with code 70; the others go on; after more room it catches up', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'paxlog-full-disk-'));
    const small = join(dataDir, 'r3');
    mkdirSync(small, { recursive: true });
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', small]);
    let cluster: DevCluster | null = null;
    let client: PaxlogClient | null = null;
    try {
      cluster = await DevCluster.start({ dataDir, logs: [log] });
      client = await PaxlogClient.connect({ servers: cluster.url, log });
      const replica3 = cluster.processes.get(3)!;
      const exited = new Promise<number | null>((resolve) => replica3.once('exit', (code) => resolve(code)));
      const acked = new Map<string, number>();
      const payload = 'x'.repeat(2_000);
      let n = 0;
      await waitFor('replica 3 to fill its disk', async () => {
        const batch = Array.from({ length: 50 }, () => ({ id: `full-${n}`, data: new TextEncoder().encode(`${n++} ${payload}`) }));
        const results = await client!.appendEntries(batch, { timeoutMs: 30_000 });
        results.forEach((r, i) => r.status !== 'conflict' && acked.set(batch[i]!.id, r.offset));
        return !cluster!.processes.has(3);
      }, 120_000);
      assert.equal(await exited, 70, 'a failed write is fatal: exit code 70');
      assert.match(readFileSync(join(dataDir, 'r3.log'), 'utf8'), /"level":60.*replica stopped: a write or an invariant failed/);
      await appendMany({ client, count: 200, concurrency: 16, prefix: 'after', acked });
      execFileSync('mount', ['-o', 'remount,size=64m', small]);
      cluster.startReplica(3);
      const entries = await verifyReplicas({ client, peers: cluster.peers, acked });
      assert.ok(entries >= acked.size);
    } finally {
      await client?.close();
      await cluster?.stop();
      execFileSync('umount', [small]);
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

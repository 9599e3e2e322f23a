import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { PaxlogClient } from '../../src/client/PaxlogClient.js';
import { DevCluster } from '../../src/dev/DevCluster.js';
import { leaderOf } from '../helpers/clusterChecks.js';

const run = promisify(execFile);

describe('the examples run against a real cluster', () => {
  it('bank account and plain NATS', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'paxlog-examples-'));
    const cluster = await DevCluster.start({ dataDir, logs: ['default', 'bank'] });
    const client = await PaxlogClient.connect({ servers: cluster.url, log: 'bank' });
    try {
      await leaderOf(client);
      await leaderOf(client.forLog('default'));
      const bank = await run(process.execPath, ['--import', 'tsx', 'examples/bank-account.ts', cluster.url, 'bank'], { timeout: 60_000 });
      assert.match(bank.stdout, /teller A: withdrew 70 at offset 1/);
      assert.match(bank.stdout, /teller B \(stale state, 70 more\): refused: balance 30 < 70/);
      assert.match(bank.stdout, /balance rebuilt from the stream: 30/);
      const plain = await run(process.execPath, ['--import', 'tsx', 'examples/plain-nats.ts', cluster.url], { timeout: 60_000 });
      assert.match(plain.stdout, /append: offset 0, or error -/);
      assert.match(plain.stdout, /replay: 0: order placed/);
      assert.match(plain.stdout, /replay: next offset 1/);
    } finally {
      await client.close();
      await cluster.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

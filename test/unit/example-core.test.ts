import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';

describe('examples/in-memory-cluster.ts', () => {
  it('drives three cores by hand and every replica ends with the same log', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'examples/in-memory-cluster.ts'], { timeout: 60_000 });
    assert.match(stdout, /"results":\[\{"status":"duplicate","offset":0\}\]/);
    for (const replica of [1, 2, 3]) {
      assert.match(stdout, new RegExp(`replica ${replica}: committed instance 2, accepted instance 2, log \\[0: deposit 100, 1: withdraw 30\\]`));
    }
  });
});

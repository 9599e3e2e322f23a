import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { leaseLimitsDefault, leaseTiming } from '../../src/election/limits.js';
import { paxosLimitsCheck, paxosLimitsDefault } from '../../src/log/limits.js';
import { nodeFlagTable } from '../../src/cli/nodeCommand.js';
import { ConfigError, leaseLimitsOf, leaseTicksMin, natsAccessOf, nodeConfigLoad, nodeConfigParse, nodeConfigSchema, paxosLimitsOf, retentionOf } from '../../src/node/config.js';

const example = fileURLToPath(new URL('../../examples/production/replica-1.json', import.meta.url));

describe('replica config', () => {
  it('docs/OPERATIONS.md: the production example parses, with its NATS access and retention, and flags override it', () => {
    const config = nodeConfigLoad({ file: example, flags: { logLevel: 'warn' } });
    assert.deepEqual([config.id, config.peers, config.logs, config.dataDir], [1, [1, 2, 3], ['orders', 'payments'], '/var/lib/paxlog']);
    assert.deepEqual(natsAccessOf(config), {
      url: 'tls://nats-1.internal:4222,tls://nats-2.internal:4222,tls://nats-3.internal:4222',
      credsFile: '/etc/paxlog/replica-1.creds',
      nkeyFile: undefined,
      tlsCaFile: '/etc/paxlog/nats-ca.pem',
      tlsCertFile: undefined,
      tlsKeyFile: undefined,
    });
    assert.deepEqual(retentionOf(config), { bytesMax: 10_737_418_240, ageMsMax: 604_800_000 });
    assert.equal(config.logLevel, 'warn');
    assert.deepEqual([config.tickMs, config.leaseTicks, config.lingerMs, config.inflightInstancesMax], [10, 200, 0, 32], 'the defaults docs/OPERATIONS.md lists');
    assert.deepEqual([config.readEntriesPerSecondMax, config.appendsPendingBytesMax, config.cacheBytesMax], [150_000, 64 << 20, 64 << 20], 'the client-work budgets it lists');
  });

  it('every paxlog node flag sets a config field, once, from its text', () => {
    const fields = Object.keys(nodeConfigSchema.shape);
    for (const { flag, field } of nodeFlagTable) assert.ok(fields.includes(field), `--${flag} sets ${field}, which the config does not have`);
    assert.equal(new Set(nodeFlagTable.map((row) => row.field)).size, nodeFlagTable.length, 'no two flags set one field');
    const text: Record<string, string> = { id: '2', peers: '1,2,3', logs: 'a,b', data: '/tmp/x', nats: 'nats://127.0.0.1:4222', 'lease-ticks': '300', 'log-level': 'debug', 'retain-entries-max': '1000' };
    const flags = Object.fromEntries(nodeFlagTable.filter((row) => text[row.flag] !== undefined).map((row) => [row.field, row.parse(text[row.flag]!)]));
    const config = nodeConfigLoad({ file: undefined, flags });
    assert.deepEqual([config.id, config.peers, config.logs, config.dataDir, config.leaseTicks, config.logLevel, retentionOf(config)], [2, [1, 2, 3], ['a', 'b'], '/tmp/x', 300, 'debug', { entriesMax: 1000 }]);
  });

  it('takes the client-work budgets from flags, and refuses one out of range by name', () => {
    const config = nodeConfigLoad({ file: example, flags: { readEntriesPerSecondMax: 500_000, appendsPendingBytesMax: 8 << 20, cacheBytesMax: 0 } });
    assert.deepEqual([config.readEntriesPerSecondMax, config.appendsPendingBytesMax, config.cacheBytesMax], [500_000, 8 << 20, 0]);
    assert.throws(() => nodeConfigLoad({ file: example, flags: { readEntriesPerSecondMax: 10 } }), (error: unknown) => error instanceof ConfigError && /readEntriesPerSecondMax/.test(error.message));
    assert.throws(() => nodeConfigLoad({ file: example, flags: { appendsPendingBytesMax: 1_000 } }), (error: unknown) => error instanceof ConfigError && /appendsPendingBytesMax/.test(error.message));
  });

  it('refuses, by name, what the consensus cores would refuse at start, and what it accepts the cores accept', () => {
    const base = { id: 1, peers: [1, 2, 3], logs: ['a'], dataDir: '/tmp/paxlog-config', natsUrl: 'nats://127.0.0.1:4222' };
    // The cores check their limits as MultiPaxos and PaxosLease do at construction.
    const coresAccept = (config: ReturnType<typeof nodeConfigParse>): void => {
      paxosLimitsCheck({ ...paxosLimitsDefault, ...paxosLimitsOf(config) });
      leaseTiming({ ...leaseLimitsDefault, ...leaseLimitsOf(config) });
    };
    // --lease-ticks 100 and --inflight-instances-max 128 passed the config and then failed an
    // assertion when the replica started.
    assert.throws(() => nodeConfigParse({ ...base, leaseTicks: leaseTicksMin - 1 }), (error: unknown) =>
      error instanceof ConfigError && error.message.includes(`leaseTicks: ${leaseTicksMin - 1} is too short`) && error.message.includes(`at least ${leaseTicksMin}`));
    assert.throws(() => leaseTiming({ ...leaseLimitsDefault, leaseTicks: leaseTicksMin - 1 }), 'the lease timing refuses one tick less');
    coresAccept(nodeConfigParse({ ...base, leaseTicks: leaseTicksMin }));
    for (const inflightInstancesMax of [1, 32, 128, 1024]) coresAccept(nodeConfigParse({ ...base, inflightInstancesMax }));
    coresAccept(nodeConfigParse({ ...base, batchEntriesMax: 65_536, batchBytesMax: 256 << 10 }));
  });
});

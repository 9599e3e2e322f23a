import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { natsAccessOf, nodeConfigLoad, retentionOf } from '../../src/node/config.js';

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
  });
});

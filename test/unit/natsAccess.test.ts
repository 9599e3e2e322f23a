import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { nodeConfigParse } from '../../src/node/config.js';
import { NatsAccessError, natsAccessOptions, natsUrlProblem, natsUrlShown } from '../../src/transport/natsAccess.js';

describe('NATS access: URLs, credentials and TLS options', () => {
  it('takes a user and password or a token out of the URL, and keeps several servers', () => {
    assert.deepEqual(natsAccessOptions({ url: 'nats://alice:s3cr%40t@127.0.0.1:4222' }), { servers: ['nats://127.0.0.1:4222'], user: 'alice', pass: 's3cr@t' });
    assert.deepEqual(natsAccessOptions({ url: 'nats://tok@h1:4222, nats://tok@h2' }), { servers: ['nats://h1:4222', 'nats://h2'], token: 'tok' });
    assert.deepEqual(natsAccessOptions({ url: 'nats://h1:4222,nats://h2:4222' }), { servers: ['nats://h1:4222', 'nats://h2:4222'] });
  });

  it('reads the userinfo up to the last @, takes no scheme as nats://, and keeps IPv6 hosts', () => {
    assert.deepEqual(natsAccessOptions({ url: 'nats://u:p@ss@h:4222' }), { servers: ['nats://h:4222'], user: 'u', pass: 'p@ss' });
    assert.deepEqual(natsAccessOptions({ url: 'nats://u:@h' }), { servers: ['nats://h'], user: 'u', pass: '' });
    assert.deepEqual(natsAccessOptions({ url: '127.0.0.1:4222' }), { servers: ['nats://127.0.0.1:4222'] });
    assert.deepEqual(natsAccessOptions({ url: 'nats://[::1]:4222' }), { servers: ['nats://[::1]:4222'] });
    assert.equal(natsUrlProblem('nats://a:4222, nats://b:4222'), null);
    assert.equal(nodeConfigParse({ id: 1, peers: [1], logs: ['l'], dataDir: '/tmp/x', natsUrl: 'nats://a:4222, nats://b:4222' }).natsUrl, 'nats://a:4222, nats://b:4222');
  });

  it('asks for TLS with a tls:// URL or any TLS file, and passes the files on', () => {
    assert.deepEqual(natsAccessOptions({ url: 'tls://h:4222' }), { servers: ['tls://h:4222'], tls: {} });
    assert.deepEqual(natsAccessOptions({ url: 'nats://h', tlsCaFile: 'ca.pem', tlsCertFile: 'c.pem', tlsKeyFile: 'k.pem' }), { servers: ['nats://h'], tls: { caFile: 'ca.pem', certFile: 'c.pem', keyFile: 'k.pem' } });
  });

  it('refuses what cannot work, saying why', () => {
    const refused = (access: Parameters<typeof natsAccessOptions>[0], message: RegExp) =>
      assert.throws(() => natsAccessOptions(access), (error: unknown) => error instanceof NatsAccessError && message.test(error.message));
    refused({ url: 'http://h:4222' }, /starts with http:\/\/; a NATS URL starts with nats:\/\/ or tls:\/\//);
    refused({ url: 'nats://u:%ZZsecret@h' }, /bad percent-encoding/);
    refused({ url: 'nats://h:4222,nats://u:secret@h/path' }, /^NATS URL 2 of 2 has no valid host and port$/);
    refused({ url: '' }, /no NATS server URL/);
    refused({ url: 'nats://a:b@h1,nats://c:d@h2' }, /different credentials/);
    refused({ url: 'nats://a:b@h', credsFile: 'x.creds' }, /one way/);
    refused({ url: 'nats://h', credsFile: 'x.creds', nkeyFile: 'x.nk' }, /not both/);
    refused({ url: 'nats://h', tlsCertFile: 'c.pem' }, /needs its key/);
    refused({ url: 'nats://h', credsFile: '/nonexistent/x.creds' }, /cannot read the NATS creds file \/nonexistent\/x\.creds/);
    const dir = mkdtempSync(join(tmpdir(), 'paxlog-nk-'));
    try {
      writeFileSync(join(dir, 'bad.nk'), 'SAAB-not-a-user-seed\n');
      refused({ url: 'nats://h', nkeyFile: join(dir, 'bad.nk') }, /does not hold a user seed/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('shows URLs without their passwords or tokens', () => {
    assert.equal(natsUrlShown('nats://alice:s3cr%40t@127.0.0.1:4222'), 'nats://alice:***@127.0.0.1:4222');
    assert.equal(natsUrlShown('nats://tok@h1:4222,tls://u:p@h2'), 'nats://***@h1:4222,tls://u:***@h2');
    assert.equal(natsUrlShown('nats://127.0.0.1:4222'), 'nats://127.0.0.1:4222');
    assert.equal(natsUrlShown('nats://u:p@ss@h'), 'nats://u:***@h');
    assert.equal(natsUrlShown('nats://u:pa ss,x/y@h,nats://t@[::1]:4222'), 'nats://u:***@h,nats://***@[::1]:4222');
  });
});

import { readFileSync } from 'node:fs';
import { type ConnectionOptions, credsAuthenticator, nkeyAuthenticator } from '@nats-io/transport-node';

/**
 * How a replica or a client reaches a NATS deployment that may require authentication and TLS.
 * - `url`: one server URL or several, comma-separated (`nats://h1:4222,nats://h2:4222`), each
 *   `nats://` or `tls://`. A user and password (`nats://user:password@host:4222`) or a token
 *   (`nats://token@host:4222`) in them is used as such, as the Go client and the `nats` CLI do,
 *   and never shown: logs and messages get `natsUrlShown`.
 * - `credsFile`: a `.creds` file (a user JWT and its NKey seed; operator mode, Synadia Cloud).
 * - `nkeyFile`: a file holding a user NKey seed (`SU...`), for servers that list NKey users.
 * - `tlsCaFile`, and `tlsCertFile` with `tlsKeyFile` for servers that verify clients (mutual TLS).
 *   Any of them, or a `tls://` URL, makes the connection require TLS.
 */
export interface NatsAccess {
  readonly url: string;
  readonly credsFile?: string | undefined;
  readonly nkeyFile?: string | undefined;
  readonly tlsCaFile?: string | undefined;
  readonly tlsCertFile?: string | undefined;
  readonly tlsKeyFile?: string | undefined;
}

/** What nats.js needs to get in: servers, a user and password or a token or an authenticator, TLS. */
export type NatsAccessOptions = Pick<ConnectionOptions, 'servers' | 'user' | 'pass' | 'token' | 'authenticator' | 'tls'>;

export class NatsAccessError extends Error {
  override readonly name = 'NatsAccessError';
}

interface ParsedServer {
  readonly server: string;
  readonly secret: { user: string; pass: string } | { token: string } | null;
  readonly tls: boolean;
}

function serverParse(text: string): ParsedServer {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new NatsAccessError(`not a NATS URL: ${natsUrlShown(text)}`);
  }
  if (url.protocol !== 'nats:' && url.protocol !== 'tls:') throw new NatsAccessError(`a NATS URL starts with nats:// or tls://, not ${url.protocol}//`);
  if (url.hostname === '') throw new NatsAccessError(`a NATS URL names a host: ${natsUrlShown(text)}`);
  const user = decodeURIComponent(url.username);
  const pass = decodeURIComponent(url.password);
  const secret = user === '' ? null : pass === '' ? { token: user } : { user, pass };
  return { server: `${url.protocol}//${url.host}`, secret, tls: url.protocol === 'tls:' };
}

function readSecretFile(options: { path: string; what: string }): Uint8Array {
  try {
    return readFileSync(options.path);
  } catch (error) {
    throw new NatsAccessError(`cannot read the NATS ${options.what} file ${options.path}: ${(error as Error).message}`);
  }
}

/** The connection options for `access`; throws a NatsAccessError that says what is wrong. */
export function natsAccessOptions(access: NatsAccess): NatsAccessOptions {
  const parsed = access.url.split(',').map((item) => item.trim()).filter((item) => item !== '').map(serverParse);
  if (parsed.length === 0) throw new NatsAccessError('no NATS server URL given');
  const secrets = new Set(parsed.map((p) => JSON.stringify(p.secret)).filter((s) => s !== 'null'));
  if (secrets.size > 1) throw new NatsAccessError('the NATS URLs carry different credentials; give every server the same');
  const secret = parsed.find((p) => p.secret !== null)?.secret ?? null;
  if (secret !== null && (access.credsFile !== undefined || access.nkeyFile !== undefined)) {
    throw new NatsAccessError('give NATS credentials one way: in the URL, or a creds file, or an NKey file');
  }
  if (access.credsFile !== undefined && access.nkeyFile !== undefined) throw new NatsAccessError('give a NATS creds file or an NKey file, not both');
  if ((access.tlsCertFile === undefined) !== (access.tlsKeyFile === undefined)) throw new NatsAccessError('a TLS client certificate needs its key, and a key its certificate');
  const options: { -readonly [K in keyof NatsAccessOptions]: NatsAccessOptions[K] } = { servers: parsed.map((p) => p.server) };
  if (secret !== null && 'token' in secret) options.token = secret.token;
  if (secret !== null && 'user' in secret) Object.assign(options, { user: secret.user, pass: secret.pass });
  if (access.credsFile !== undefined) options.authenticator = credsAuthenticator(readSecretFile({ path: access.credsFile, what: 'creds' }));
  if (access.nkeyFile !== undefined) {
    const seed = new TextDecoder().decode(readSecretFile({ path: access.nkeyFile, what: 'NKey seed' })).trim();
    if (!/^SU[A-Z2-7]+$/.test(seed)) throw new NatsAccessError(`the NKey file ${access.nkeyFile} does not hold a user seed (SU...)`);
    options.authenticator = nkeyAuthenticator(new TextEncoder().encode(seed));
  }
  const tlsWanted = parsed.some((p) => p.tls) || access.tlsCaFile !== undefined || access.tlsCertFile !== undefined;
  if (tlsWanted) {
    options.tls = {
      ...(access.tlsCaFile === undefined ? {} : { caFile: access.tlsCaFile }),
      ...(access.tlsCertFile === undefined || access.tlsKeyFile === undefined ? {} : { certFile: access.tlsCertFile, keyFile: access.tlsKeyFile }),
    };
  }
  return options;
}

/** `url` with every password or token in it replaced by `***` (a user name stays), for logs and messages. */
export function natsUrlShown(url: string): string {
  return url.replace(/(\w+:\/\/)([^:@/,\s]*)(:[^@/,\s]*)?@/g, (_match, scheme: string, user: string, password: string | undefined) =>
    password === undefined ? `${scheme}***@` : `${scheme}${user}:***@`);
}

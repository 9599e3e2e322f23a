import { readFileSync } from 'node:fs';
import { type ConnectionOptions, credsAuthenticator, nkeyAuthenticator } from '@nats-io/transport-node';

/**
 * How a replica or a client reaches a NATS deployment that may require authentication and TLS.
 * - `url`: one server URL or several, comma-separated (`nats://h1:4222,nats://h2:4222`), each
 *   `nats://` or `tls://` (none means nats://). A user and password
 *   (`nats://user:password@host:4222`, percent-encoded) or a token (`nats://token@host:4222`) in
 *   them is used as such, as the Go client does, and never shown: logs and messages get
 *   `natsUrlShown`.
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

function percentDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new NatsAccessError('a NATS URL has a bad percent-encoding in its user, password or token');
  }
}

/**
 * One server of `--nats`: `[nats|tls]://[userinfo@]host[:port]`, with no scheme taken as nats://.
 * The userinfo runs to the last `@`: `user:password` (the password may be empty) or a token. A
 * message about a bad URL names its position, never its text, which may hold a secret.
 */
function serverParse(options: { text: string; position: number; count: number }): ParsedServer {
  const text = options.text.includes('://') ? options.text : `nats://${options.text}`;
  const match = /^([A-Za-z][\w+.-]*):\/\/(?:(.*)@)?([^@]*)$/s.exec(text);
  const which = options.count === 1 ? 'the NATS URL' : `NATS URL ${options.position} of ${options.count}`;
  const scheme = match?.[1]?.toLowerCase();
  if (match === null || scheme === undefined) throw new NatsAccessError(`${which} is not a URL (percent-encode @ , / and spaces in a password)`);
  if (scheme !== 'nats' && scheme !== 'tls') throw new NatsAccessError(`${which} starts with ${scheme}://; a NATS URL starts with nats:// or tls://`);
  let url: URL;
  try {
    url = new URL(`${scheme}://${match[3] ?? ''}`);
  } catch {
    throw new NatsAccessError(`${which} has no valid host and port`);
  }
  if (url.hostname === '' || url.pathname !== '' || url.search !== '' || url.hash !== '') throw new NatsAccessError(`${which} has no valid host and port`);
  const userinfo = match[2];
  let secret: ParsedServer['secret'] = null;
  if (userinfo !== undefined && userinfo !== '') {
    const colon = userinfo.indexOf(':');
    secret = colon < 0 ? { token: percentDecode(userinfo) } : { user: percentDecode(userinfo.slice(0, colon)), pass: percentDecode(userinfo.slice(colon + 1)) };
  }
  return { server: `${scheme}://${url.host}`, secret, tls: scheme === 'tls' };
}

/** The servers in `url` (comma-separated), each checked; throws a NatsAccessError. */
function serversParse(url: string): ParsedServer[] {
  const texts = url.split(',').map((item) => item.trim()).filter((item) => item !== '');
  if (texts.length === 0) throw new NatsAccessError('no NATS server URL given');
  return texts.map((text, index) => serverParse({ text, position: index + 1, count: texts.length }));
}

/** What is wrong with a `--nats` value, or null: for config validation, before any connection. */
export function natsUrlProblem(url: string): string | null {
  try {
    serversParse(url);
    return null;
  } catch (error) {
    if (error instanceof NatsAccessError) return error.message;
    throw error;
  }
}

function secretFileRead(options: { path: string; what: string }): Uint8Array {
  try {
    return readFileSync(options.path);
  } catch (error) {
    throw new NatsAccessError(`cannot read the NATS ${options.what} file ${options.path}: ${(error as Error).message}`);
  }
}

/** The connection options for `access`; throws a NatsAccessError that says what is wrong. */
export function natsAccessOptions(access: NatsAccess): NatsAccessOptions {
  const parsed = serversParse(access.url);
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
  if (access.credsFile !== undefined) options.authenticator = credsAuthenticator(secretFileRead({ path: access.credsFile, what: 'creds' }));
  if (access.nkeyFile !== undefined) {
    const seed = new TextDecoder().decode(secretFileRead({ path: access.nkeyFile, what: 'NKey seed' })).trim();
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

/**
 * `url` with every password or token in it replaced by `***` (a user name stays), for logs and
 * messages: everything from a scheme's `://` to the last `@` before the next scheme is userinfo,
 * whatever characters it holds.
 */
export function natsUrlShown(url: string): string {
  return url.replace(/([A-Za-z][\w+.-]*:\/\/)((?:(?![A-Za-z][\w+.-]*:\/\/)[^])*)@/g, (_match, scheme: string, userinfo: string) => {
    const colon = userinfo.indexOf(':');
    return colon < 0 ? `${scheme}***@` : `${scheme}${userinfo.slice(0, colon)}:***@`;
  });
}

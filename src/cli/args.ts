import { AuthorizationError, ConnectionError } from '@nats-io/transport-node';
import { PaxlogClient } from '../client/PaxlogClient.js';
import { type NatsAccess, NatsAccessError, natsUrlShown } from '../transport/natsAccess.js';

/** The NATS server a client command uses: `--nats`, else a local server on the default port. */
export function natsUrlOf(values: Record<string, string | boolean | undefined>): string {
  const url = values['nats'];
  return typeof url === 'string' ? url : 'nats://127.0.0.1:4222';
}

/** The NATS access flags every command takes: the NatsAccess field and the replica config field each sets. */
export const natsAccessFlagTable = [
  { flag: 'nats-creds', access: 'credsFile', config: 'natsCredsFile' },
  { flag: 'nats-nkey', access: 'nkeyFile', config: 'natsNkeyFile' },
  { flag: 'nats-tls-ca', access: 'tlsCaFile', config: 'natsTlsCaFile' },
  { flag: 'nats-tls-cert', access: 'tlsCertFile', config: 'natsTlsCertFile' },
  { flag: 'nats-tls-key', access: 'tlsKeyFile', config: 'natsTlsKeyFile' },
] as const;

/** How a client command reaches NATS, beyond `--nats`: the `--nats-*` file flags (see NatsAccess). */
export function natsAccessFlags(values: Record<string, string | boolean | undefined>): Omit<NatsAccess, 'url'> {
  const access: { -readonly [K in keyof Omit<NatsAccess, 'url'>]: string | undefined } = {};
  for (const { flag, access: field } of natsAccessFlagTable) {
    const value = values[flag];
    if (typeof value === 'string') access[field] = value;
  }
  return access;
}

/** How long a client command waits for its first NATS connection, as the `nats` CLI does. */
const cliConnectTimeoutMs = 5_000;

/**
 * A client command's connection: `--nats` and the access flags. Whatever keeps it from getting
 * connected (refused, bad credentials, a TLS handshake the server rejects, which nats.js reports
 * as a timeout) becomes a NatsAccessError, which the command prints as one line.
 */
export async function clientConnect(values: Record<string, string | boolean | undefined>, options: { log: string; name: string }): Promise<PaxlogClient> {
  try {
    return await PaxlogClient.connect({ servers: natsUrlOf(values), ...natsAccessFlags(values), ...options, connectTimeoutMs: cliConnectTimeoutMs });
  } catch (error) {
    if (error instanceof NatsAccessError) throw error;
    const message = (error as Error).name === 'TimeoutError' ? 'no connection within the connect timeout' : (error as Error).message;
    throw new NatsAccessError(message, { cause: error });
  }
}

/**
 * The one line for an error that kept a command from using the NATS server at `url` (refused,
 * unreachable, or access options that cannot work), with any password masked; null for any other error.
 */
export function natsFailureLine(error: unknown, options: { url: string }): string | null {
  if (!(error instanceof ConnectionError || error instanceof AuthorizationError || error instanceof NatsAccessError)) return null;
  return `paxlog: cannot use the NATS server at ${natsUrlShown(options.url)}: ${error.message}`;
}

/** "1,2,3" → [1, 2, 3]; a bad item stays NaN so the config check names the field. */
export function intList(text: string): number[] {
  return text.split(',').map((item) => Number(item.trim()));
}

export function textList(text: string): string[] {
  return text.split(',').map((item) => item.trim()).filter((item) => item.length > 0);
}

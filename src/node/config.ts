import { readFileSync } from 'node:fs';
import { z } from 'zod';
import type { RetentionPolicy } from '../snapshot/RetentionPolicy.js';
import { type NatsAccess, natsUrlProblem } from '../transport/natsAccess.js';

const logName = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'a log name is 1-64 letters, digits, _ or -');

/** One replica process: its id, its peers, the logs it hosts, where it keeps data, and NATS. */
export const nodeConfigSchema = z
  .object({
    id: z.number().int().min(1).max(1_000),
    peers: z.array(z.number().int().min(1).max(1_000)).min(1).max(15),
    logs: z.array(logName).min(1).max(256),
    dataDir: z.string().min(1),
    /** One URL or several, comma-separated; may carry a user and password or a token (see NatsAccess). */
    natsUrl: z.string().superRefine((url, context) => {
      const problem = natsUrlProblem(url);
      if (problem !== null) context.addIssue({ code: 'custom', message: `${problem} (a NATS URL looks like nats://127.0.0.1:4222)` });
    }),
    natsCredsFile: z.string().min(1).optional(),
    natsNkeyFile: z.string().min(1).optional(),
    natsTlsCaFile: z.string().min(1).optional(),
    natsTlsCertFile: z.string().min(1).optional(),
    natsTlsKeyFile: z.string().min(1).optional(),
    tickMs: z.number().int().min(1).max(1_000).default(10),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    /** How long an append waits for company before it is proposed. */
    lingerMs: z.number().min(0).max(1_000).default(0),
    batchEntriesMax: z.number().int().min(1).max(65_536).default(4_096),
    /** At most a quarter of NATS's default 1 MiB max_payload, so a batch always fits a message. */
    batchBytesMax: z.number().int().min(1_024).max(256 << 10).default(256 << 10),
    inflightInstancesMax: z.number().int().min(1).max(1_024).default(32),
    /** The largest NATS message a replica decodes; larger ones are refused before decoding. */
    messageBytesMax: z.number().int().min(1_024).max(64 << 20).default(8 << 20),
    leaseTicks: z.number().int().min(10).max(100_000).default(200),
    /** Retention, per log; every replica of a log must run the same (see RetentionPolicy). */
    retainEntriesMax: z.number().int().min(1).optional(),
    retainBytesMax: z.number().int().min(1).optional(),
    retainAgeMsMax: z.number().int().min(1).optional(),
    /** Snapshots kept on disk per log, newest first. */
    snapshotsKeepMax: z.number().int().min(1).max(100).default(2),
  })
  .strict()
  .superRefine((config, context) => {
    if (!config.peers.includes(config.id)) context.addIssue({ code: 'custom', path: ['peers'], message: `peers must include this replica's id ${config.id}` });
    if (new Set(config.peers).size !== config.peers.length) context.addIssue({ code: 'custom', path: ['peers'], message: 'peers repeat' });
    if (new Set(config.logs).size !== config.logs.length) context.addIssue({ code: 'custom', path: ['logs'], message: 'logs repeat' });
  });

export type NodeConfig = z.infer<typeof nodeConfigSchema>;

/** How the replica reaches NATS. */
export function natsAccessOf(config: NodeConfig): NatsAccess {
  return {
    url: config.natsUrl,
    credsFile: config.natsCredsFile,
    nkeyFile: config.natsNkeyFile,
    tlsCaFile: config.natsTlsCaFile,
    tlsCertFile: config.natsTlsCertFile,
    tlsKeyFile: config.natsTlsKeyFile,
  };
}

/** The retention policy a config asks for. */
export function retentionOf(config: NodeConfig): RetentionPolicy {
  return {
    ...(config.retainEntriesMax === undefined ? {} : { entriesMax: config.retainEntriesMax }),
    ...(config.retainBytesMax === undefined ? {} : { bytesMax: config.retainBytesMax }),
    ...(config.retainAgeMsMax === undefined ? {} : { ageMsMax: config.retainAgeMsMax }),
  };
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Validates a config, or throws a ConfigError that names each bad field. */
export function nodeConfigParse(input: unknown): NodeConfig {
  const parsed = nodeConfigSchema.safeParse(input);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(config)'}: ${issue.message}`);
  throw new ConfigError(`invalid replica config: ${problems.join('; ')}`);
}

/** Reads a JSON config file, then lets flags override it. */
export function nodeConfigLoad(options: { file: string | undefined; flags: Record<string, unknown> }): NodeConfig {
  let base: Record<string, unknown> = {};
  if (options.file !== undefined) {
    try {
      base = JSON.parse(readFileSync(options.file, 'utf8')) as Record<string, unknown>;
    } catch (error) {
      throw new ConfigError(`config file ${options.file}: ${(error as Error).message}`);
    }
  }
  return nodeConfigParse({ ...base, ...options.flags });
}

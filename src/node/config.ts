import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { type LeaseLimits, leaseLimitsDefault, leaseTiming } from '../election/limits.js';
import { type PaxosLimits, paxosLimitsCheck, paxosLimitsDefault } from '../log/limits.js';
import type { RetentionPolicy } from '../snapshot/RetentionPolicy.js';
import { type NatsAccess, natsUrlProblem } from '../transport/natsAccess.js';

/** The longest lease a config may ask for, in ticks. */
const leaseTicksMax = 100_000;

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
    leaseTicks: z.number().int().min(10).max(leaseTicksMax).default(200),
    /** Retention, per log; every replica of a log must run the same (see RetentionPolicy). */
    retainEntriesMax: z.number().int().min(1).optional(),
    retainBytesMax: z.number().int().min(1).optional(),
    retainAgeMsMax: z.number().int().min(1).optional(),
    /** Snapshots kept on disk per log, newest first. */
    snapshotsKeepMax: z.number().int().min(1).max(100).default(2),
    /** Read work per log a second: entries read (a plain replay's entry counts 8); beyond, overloaded. */
    readEntriesPerSecondMax: z.number().int().min(1_000).max(100_000_000).default(150_000),
    /** Memory of the appends one log's replica holds, from decoding to answer; beyond, overloaded. */
    appendsPendingBytesMax: z.number().int().min(1 << 20).max(16 * 2 ** 30).default(64 << 20),
    /** Memory of recently committed entries kept decoded per log, for the tail and replays. */
    cacheBytesMax: z.number().int().min(0).max(16 * 2 ** 30).default(64 << 20),
  })
  .strict()
  .superRefine((config, context) => {
    const problem = coreLimitsProblem(config);
    if (problem !== null) context.addIssue({ code: 'custom', path: [problem.field], message: problem.message });
    if (!config.peers.includes(config.id)) context.addIssue({ code: 'custom', path: ['peers'], message: `peers must include this replica's id ${config.id}` });
    if (new Set(config.peers).size !== config.peers.length) context.addIssue({ code: 'custom', path: ['peers'], message: 'peers repeat' });
    if (new Set(config.logs).size !== config.logs.length) context.addIssue({ code: 'custom', path: ['logs'], message: 'logs repeat' });
  });

export type NodeConfig = z.infer<typeof nodeConfigSchema>;

/**
 * How often an idle leader sends a bare commit notice (a heartbeat) to each follower, in ticks:
 * 200 ms at the default tick. A busy leader sends a notice with every chosen batch anyway; idle,
 * a follower that missed a notice learns the commit from the next heartbeat. The core's default
 * (5 ticks) is what the simulator runs; here every hosted log's leader sends them, and at 5 ticks
 * 64 idle logs cost each replica about a fifth of a core and nats-server about as much.
 */
const heartbeatTicksIdle = 20;

/**
 * A commit notice waits up to a tick (10 ms) for the next accept to carry it (commitNoticeDelayTicks).
 * With one append at a time, each append's notice then reaches the followers in the next append's
 * accept, and they handle both in one wake-up and one write: in interleaved pairs of 3,000
 * synchronous appends, p50 2.12, 2.91, 2.24, 2.38 ms against 5.12, 2.98, 2.82, 2.72 without.
 * Followers, and the live tail they publish, learn an append that nothing follows up to a tick later.
 */
const commitNoticeDelayTicks = 1;

/** The Multi-Paxos limits a replica runs with, from its config (the rest are the core's defaults). */
export function paxosLimitsOf(config: Pick<NodeConfig, 'inflightInstancesMax' | 'batchEntriesMax' | 'batchBytesMax'>): Partial<PaxosLimits> {
  const window = config.inflightInstancesMax;
  return {
    inflightInstancesMax: window,
    // Far enough ahead for the window; small, so a rebuilt replica's floor is near (see Rebuild).
    acceptAheadInstancesMax: Math.max(256, 4 * window),
    // A promise page and a commit notice cover a whole window, whatever the window.
    promiseRecordsMax: Math.max(paxosLimitsDefault.promiseRecordsMax, window),
    commitNoticeInstancesMax: Math.max(paxosLimitsDefault.commitNoticeInstancesMax, window),
    batchEntriesMax: config.batchEntriesMax,
    batchBytesMax: config.batchBytesMax,
    heartbeatTicks: heartbeatTicksIdle,
    commitNoticeDelayTicks,
  };
}

/** The PaxosLease limits a replica runs with, from its config. */
export function leaseLimitsOf(config: Pick<NodeConfig, 'leaseTicks'>): Partial<LeaseLimits> {
  return { leaseTicks: config.leaseTicks };
}

/** The shortest leaseTicks the lease timing accepts with the other lease limits at their defaults. */
export const leaseTicksMin = ((): number => {
  for (let leaseTicks = 10; leaseTicks <= leaseTicksMax; leaseTicks++) {
    try {
      leaseTiming({ ...leaseLimitsDefault, leaseTicks });
      return leaseTicks;
    } catch {
      // too short; the timing's own checks say why
    }
  }
  throw new Error(`no leaseTicks up to ${leaseTicksMax} suits the default lease limits`);
})();

/**
 * What the cores would refuse in this config, checked here so a bad value is a named config error
 * rather than a failed assertion when the replica starts.
 */
function coreLimitsProblem(config: Pick<NodeConfig, 'inflightInstancesMax' | 'batchEntriesMax' | 'batchBytesMax' | 'leaseTicks'>): { field: string; message: string } | null {
  if (config.leaseTicks < leaseTicksMin) {
    return { field: 'leaseTicks', message: `${config.leaseTicks} is too short: a lease must leave the holder room to renew it (at least ${leaseTicksMin})` };
  }
  try {
    paxosLimitsCheck({ ...paxosLimitsDefault, ...paxosLimitsOf(config) });
    return null;
  } catch (error) {
    return { field: 'inflightInstancesMax', message: `the consensus limits do not hold: ${(error as Error).message}` };
  }
}

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

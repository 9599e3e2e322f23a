import { pino } from 'pino';
import { ConfigError, nodeConfigLoad } from '../node/config.js';
import { ReplicaProcess } from '../node/ReplicaProcess.js';
import { intList, natsAccessFlagTable, natsFailureLine, textList } from './args.js';

export const nodeUsage = `paxlog node --id N --peers 1,2,3 --logs LOG[,LOG] --data DIR --nats URL
  [--tick-ms 10] [--lease-ticks 200] [--linger-ms 0] [--batch-entries-max 4096]
  [--inflight-instances-max 32] [--message-bytes-max 8388608] [--log-level info] [--config FILE.json]
  [--retain-entries-max N] [--retain-bytes-max N] [--retain-age-ms-max N]
  [--snapshots-keep-max 2]
  [--read-entries-per-second-max 150000] [--appends-pending-bytes-max 67108864] [--cache-bytes-max 67108864]
  [--nats-creds FILE | --nats-nkey FILE] [--nats-tls-ca FILE] [--nats-tls-cert FILE --nats-tls-key FILE]
Runs one replica process. Flags override the JSON config file; every field is validated.
--nats takes one URL or several, comma-separated; a user and password (nats://user:pass@host) or
a token (nats://token@host) in it is used, and never logged. Put secrets in the config file
(natsUrl, natsCredsFile, ...) rather than on the command line, where other users can see them.`;

const text = (value: string): string => value;

/**
 * Every `paxlog node` flag that sets a config field, and how its text becomes the field's value
 * (`nodeConfigLoad` then checks it). `--config` names the file, and natsAccessFlagTable adds the
 * NATS credential and TLS flags. main.ts declares these flags to the argument parser from here.
 */
export const nodeFlagTable: ReadonlyArray<{ readonly flag: string; readonly field: string; readonly parse: (value: string) => unknown }> = [
  { flag: 'id', field: 'id', parse: Number },
  { flag: 'peers', field: 'peers', parse: intList },
  { flag: 'logs', field: 'logs', parse: textList },
  { flag: 'data', field: 'dataDir', parse: text },
  { flag: 'nats', field: 'natsUrl', parse: text },
  { flag: 'tick-ms', field: 'tickMs', parse: Number },
  { flag: 'lease-ticks', field: 'leaseTicks', parse: Number },
  { flag: 'log-level', field: 'logLevel', parse: text },
  { flag: 'message-bytes-max', field: 'messageBytesMax', parse: Number },
  { flag: 'linger-ms', field: 'lingerMs', parse: Number },
  { flag: 'inflight-instances-max', field: 'inflightInstancesMax', parse: Number },
  { flag: 'batch-entries-max', field: 'batchEntriesMax', parse: Number },
  { flag: 'retain-entries-max', field: 'retainEntriesMax', parse: Number },
  { flag: 'retain-bytes-max', field: 'retainBytesMax', parse: Number },
  { flag: 'retain-age-ms-max', field: 'retainAgeMsMax', parse: Number },
  { flag: 'snapshots-keep-max', field: 'snapshotsKeepMax', parse: Number },
  { flag: 'read-entries-per-second-max', field: 'readEntriesPerSecondMax', parse: Number },
  { flag: 'appends-pending-bytes-max', field: 'appendsPendingBytesMax', parse: Number },
  { flag: 'cache-bytes-max', field: 'cacheBytesMax', parse: Number },
];

/** `paxlog node`: one replica process, until SIGTERM or SIGINT. */
export async function nodeCommand(values: Record<string, string | boolean | undefined>): Promise<number> {
  let config;
  try {
    const flags: Record<string, unknown> = {};
    for (const { flag, field, parse } of nodeFlagTable) {
      const value = values[flag];
      if (typeof value === 'string') flags[field] = parse(value);
    }
    for (const { flag, config: field } of natsAccessFlagTable) if (typeof values[flag] === 'string') flags[field] = values[flag];
    config = nodeConfigLoad({ file: typeof values['config'] === 'string' ? values['config'] : undefined, flags });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    // The reason last: it is what the end of a replica's log (and of a terminal) shows.
    process.stderr.write(`${nodeUsage}\n\n${error.message}\n`);
    return 2;
  }
  const logger = pino({ level: config.logLevel, base: { replica: config.id } });
  const replica = new ReplicaProcess({
    config,
    logger,
    onFatal: () => {
      logger.flush();
      process.exit(70);
    },
  });
  try {
    await replica.start();
  } catch (error) {
    // The URL may come from the config file, which main() does not see: name it here.
    const natsFailure = natsFailureLine(error, { url: config.natsUrl });
    if (natsFailure === null) throw error;
    process.stderr.write(`${natsFailure}\n`);
    return 1;
  }
  await new Promise<void>((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      logger.info({ signal }, 'stopping');
      void replica.stop().then(resolve);
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
    watchParent(() => stop('parent-exited'));
  });
  logger.flush();
  return 0;
}

/** How often a replica started with PAXLOG_STOP_WITH_PARENT checks that its parent still runs. */
const parentCheckMs = 500;

/**
 * With PAXLOG_STOP_WITH_PARENT=<pid> (set by `paxlog dev` and the test clusters), the replica
 * stops cleanly once that process is gone, however it ended (a SIGKILL runs no exit hook there).
 */
function watchParent(stop: () => void): void {
  const parentPid = Number(process.env['PAXLOG_STOP_WITH_PARENT'] ?? '');
  if (!Number.isSafeInteger(parentPid) || parentPid <= 1) return;
  const timer = setInterval(() => {
    if (process.ppid === parentPid) return;
    clearInterval(timer);
    stop();
  }, parentCheckMs);
  timer.unref();
}

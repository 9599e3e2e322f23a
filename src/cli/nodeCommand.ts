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

/** `paxlog node`: one replica process, until SIGTERM or SIGINT. */
export async function nodeCommand(values: Record<string, string | boolean | undefined>): Promise<number> {
  let config;
  try {
    const flags: Record<string, unknown> = {};
    if (typeof values['id'] === 'string') flags['id'] = Number(values['id']);
    if (typeof values['peers'] === 'string') flags['peers'] = intList(values['peers']);
    if (typeof values['logs'] === 'string') flags['logs'] = textList(values['logs']);
    if (typeof values['data'] === 'string') flags['dataDir'] = values['data'];
    if (typeof values['nats'] === 'string') flags['natsUrl'] = values['nats'];
    for (const { flag, config: field } of natsAccessFlagTable) if (typeof values[flag] === 'string') flags[field] = values[flag];
    if (typeof values['tick-ms'] === 'string') flags['tickMs'] = Number(values['tick-ms']);
    if (typeof values['lease-ticks'] === 'string') flags['leaseTicks'] = Number(values['lease-ticks']);
    if (typeof values['log-level'] === 'string') flags['logLevel'] = values['log-level'];
    const numeric: Array<[string, string]> = [['message-bytes-max', 'messageBytesMax'], ['linger-ms', 'lingerMs'], ['inflight-instances-max', 'inflightInstancesMax'], ['batch-entries-max', 'batchEntriesMax'],
      ['retain-entries-max', 'retainEntriesMax'], ['retain-bytes-max', 'retainBytesMax'], ['retain-age-ms-max', 'retainAgeMsMax'],
      ['snapshots-keep-max', 'snapshotsKeepMax'], ['read-entries-per-second-max', 'readEntriesPerSecondMax'],
      ['appends-pending-bytes-max', 'appendsPendingBytesMax'], ['cache-bytes-max', 'cacheBytesMax']];
    for (const [flag, field] of numeric) if (typeof values[flag] === 'string') flags[field] = Number(values[flag]);
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

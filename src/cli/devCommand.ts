import { resolve } from 'node:path';
import { DevCluster } from '../dev/DevCluster.js';
import { findNatsServer, natsServerMissingMessage } from '../dev/NatsServer.js';
import { textList } from './args.js';

export const devUsage = `paxlog dev [--data DIR] [--logs LOG[,LOG]] [--log-level info]
Starts a nats-server on a free loopback port and a 3-replica cluster with its data under DIR
(default .paxlog/dev), prints how to connect, and stops everything on Ctrl-C.`;

/** `paxlog dev`: a local cluster until Ctrl-C. */
export async function devCommand(values: Record<string, string | boolean | undefined>): Promise<number> {
  if (findNatsServer() === null) {
    process.stderr.write(`${natsServerMissingMessage}\n`);
    return 1;
  }
  const dataDir = resolve(typeof values['data'] === 'string' ? values['data'] : '.paxlog/dev');
  const logs = typeof values['logs'] === 'string' ? textList(values['logs']) : ['default'];
  const cluster = await DevCluster.start({ dataDir, logs, logLevel: typeof values['log-level'] === 'string' ? values['log-level'] : 'info' });
  process.stdout.write(
    [
      `paxlog dev: 3 replicas, logs ${logs.join(', ')}`,
      `  NATS:     ${cluster.url}`,
      `  data:     ${dataDir} (replica logs in r1.log, r2.log, r3.log)`,
      `  status:   paxlog status --nats ${cluster.url} --log ${logs[0]}`,
      'Ctrl-C stops everything.',
      '',
    ].join('\n'),
  );
  const allExited = await untilStopOrAllExited(cluster);
  process.stdout.write('stopping the replicas and nats-server...\n');
  await cluster.stop();
  return allExited ? 1 : 0;
}

/**
 * Runs until Ctrl-C (false), or until no replica is left (true). Each replica that exits unasked
 * is reported on stderr with the end of its log as it happens; the others keep running.
 */
async function untilStopOrAllExited(cluster: DevCluster): Promise<boolean> {
  let reported = 0;
  return new Promise<boolean>((done) => {
    const watch = setInterval(() => {
      for (const exit of cluster.exitsUnasked.slice(reported)) process.stderr.write(`paxlog dev: ${cluster.exitText(exit)}\n`);
      reported = cluster.exitsUnasked.length;
      if (cluster.processes.size === 0) finish(true);
    }, 200);
    const finish = (allExited: boolean): void => {
      clearInterval(watch);
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      done(allExited);
    };
    const onSignal = (): void => finish(false);
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  });
}

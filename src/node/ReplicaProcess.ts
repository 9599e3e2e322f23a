import { setTimeout as sleep } from 'node:timers/promises';
import { AuthorizationError, connect, type NatsConnection } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import { NatsAccessError, natsAccessOptions, natsUrlShown } from '../transport/natsAccess.js';
import { wireLimits } from '../transport/wireLimits.js';
import { natsAccessOf, type NodeConfig } from './config.js';
import { LogNode } from './LogNode.js';

/** How long one try at the first NATS connection may take, and the pause before the next. */
const natsConnectTimeoutMs = 5_000;
const natsConnectRetryMs = 1_000;

/**
 * One replica process: a NATS connection and one LogNode (its own Paxos group and SQLite file)
 * per hosted log, so a cluster spreads its logs over every core. Losing NATS is an operating
 * fault: the client reconnects forever, and the cores see the lost messages as loss.
 */
export class ReplicaProcess {
  readonly logs = new Map<string, LogNode>();
  private nc: NatsConnection | null = null;

  constructor(
    private readonly options: { readonly config: NodeConfig; readonly logger: Logger; readonly onFatal: (error: Error) => void },
  ) {}

  async start(): Promise<void> {
    const { config, logger } = this.options;
    const nc = await this.connectFirst();
    const payloadBytesMax = nc.info?.max_payload ?? 0;
    if (payloadBytesMax < wireLimits.natsPayloadBytesMin) {
      await nc.close();
      throw new NatsAccessError(`its max_payload is ${payloadBytesMax} bytes; paxlog needs at least ${wireLimits.natsPayloadBytesMin} (the server's default), which its batches, pages and snapshot chunks are sized for`);
    }
    this.nc = nc;
    void this.watch(nc);
    for (const log of config.logs) {
      const node = new LogNode({ log, config, nc, logger: logger.child({ log }), onFatal: (error) => this.options.onFatal(error) });
      node.start();
      this.logs.set(log, node);
    }
    logger.info({ id: config.id, peers: config.peers, logs: config.logs, nats: natsUrlShown(config.natsUrl) }, 'replica process up');
  }

  /**
   * The first connection, tried until it succeeds, with a warning per failed try: a server that
   * is not up yet, or a TLS handshake it rejects (nats.js reports both as a timeout or a refused
   * connection), is an operating fault to wait out in sight of the log. Credentials the server
   * refuses, or access options that cannot work, end the start (NatsAccessError, AuthorizationError).
   * Once connected, nats.js reconnects by itself, forever.
   */
  private async connectFirst(): Promise<NatsConnection> {
    const { config, logger } = this.options;
    const access = natsAccessOptions(natsAccessOf(config));
    for (let attempt = 1; ; attempt++) {
      try {
        return await connect({
          ...access,
          name: `paxlog-replica-${config.id}`,
          timeout: natsConnectTimeoutMs,
          maxReconnectAttempts: -1,
          reconnectTimeWait: 100,
          pingInterval: 2_000,
          noAsyncTraces: true,
        });
      } catch (error) {
        if (error instanceof AuthorizationError) throw error;
        logger.warn({ nats: natsUrlShown(config.natsUrl), attempt, problem: (error as Error).message }, 'cannot reach NATS yet; trying again');
        await sleep(natsConnectRetryMs);
      }
    }
  }

  private async watch(nc: NatsConnection): Promise<void> {
    for await (const status of nc.status()) {
      if (status.type === 'disconnect' || status.type === 'reconnect' || status.type === 'error') {
        this.options.logger.warn({ nats: status.type }, 'NATS connection');
      }
    }
  }

  /** SIGTERM: every log releases its lease and fails what waits, storage closes, NATS drains. */
  async stop(): Promise<void> {
    for (const node of this.logs.values()) await node.stop();
    this.logs.clear();
    const nc = this.nc;
    this.nc = null;
    if (nc !== null) await nc.drain().catch(() => nc.close());
    this.options.logger.info('replica process stopped');
  }
}

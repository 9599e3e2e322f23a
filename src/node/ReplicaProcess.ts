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
 * How often each connection PINGs its server; nats.js calls the connection stale, drops it and
 * reconnects after two PINGs go unanswered on top of the one in flight. The peers connection
 * carries the lease, so a dead server must show there within seconds. The clients connection may
 * have megabytes of requests queued ahead of its PONG under a flood (nats-server holds up to
 * max_pending, 64 MiB, for it), and a drop loses them all unanswered: at 2 s it dropped a leader
 * reading a burst of large appends, and about 1,000 of 1,500 requests never got a reply.
 */
const pingIntervalMs = { peers: 2_000, clients: 20_000 } as const;

/**
 * One replica process: two NATS connections (one for clients, one for the other replicas, so
 * client traffic never queues ahead of consensus messages) and one LogNode (its own Paxos group
 * and SQLite file) per hosted log, so a cluster spreads its logs over every core. Losing NATS is an
 * operating fault: nats.js reconnects forever, and the cores see the lost messages as loss.
 */
export class ReplicaProcess {
  readonly logs = new Map<string, LogNode>();
  /** The client connection and the replicas' own (see LogNodeOptions.peerNc). */
  private connections: NatsConnection[] = [];

  constructor(
    private readonly options: { readonly config: NodeConfig; readonly logger: Logger; readonly onFatal: (error: Error) => void },
  ) {}

  async start(): Promise<void> {
    const { config, logger } = this.options;
    const nc = await this.connectFirst('clients');
    // A refusal of the second connection must not leave the first open: it would keep the process up.
    const peerNc = await this.connectFirst('peers').catch(async (error: unknown) => {
      await nc.close();
      throw error;
    });
    this.connections = [nc, peerNc];
    const payloadBytesMax = Math.min(nc.info?.max_payload ?? 0, peerNc.info?.max_payload ?? 0);
    if (payloadBytesMax < wireLimits.natsPayloadBytesMin) {
      await Promise.all(this.connections.splice(0).map((connection) => connection.close()));
      throw new NatsAccessError(`its max_payload is ${payloadBytesMax} bytes; paxlog needs at least ${wireLimits.natsPayloadBytesMin} (the server's default), which its batches, pages and snapshot chunks are sized for`);
    }
    void this.watch(nc, 'clients');
    void this.watch(peerNc, 'peers');
    for (const log of config.logs) {
      const node = new LogNode({ log, config, nc, peerNc, logger: logger.child({ log }), onFatal: (error) => this.options.onFatal(error) });
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
  private async connectFirst(purpose: 'clients' | 'peers'): Promise<NatsConnection> {
    const { config, logger } = this.options;
    const access = natsAccessOptions(natsAccessOf(config));
    for (let attempt = 1; ; attempt++) {
      try {
        return await connect({
          ...access,
          name: `paxlog-replica-${config.id}-${purpose}`,
          timeout: natsConnectTimeoutMs,
          maxReconnectAttempts: -1,
          reconnectTimeWait: 100,
          pingInterval: pingIntervalMs[purpose],
          noAsyncTraces: true,
        });
      } catch (error) {
        if (error instanceof AuthorizationError) throw error;
        logger.warn({ nats: natsUrlShown(config.natsUrl), connection: purpose, attempt, problem: (error as Error).message }, 'cannot reach NATS yet; trying again');
        await sleep(natsConnectRetryMs);
      }
    }
  }

  private async watch(nc: NatsConnection, purpose: 'clients' | 'peers'): Promise<void> {
    for await (const status of nc.status()) {
      if (status.type === 'disconnect' || status.type === 'reconnect' || status.type === 'error') {
        this.options.logger.warn({ nats: status.type, connection: purpose }, 'NATS connection');
      }
    }
  }

  /** SIGTERM: every log releases its lease and fails what waits, storage closes, NATS drains. */
  async stop(): Promise<void> {
    for (const node of this.logs.values()) await node.stop();
    this.logs.clear();
    await Promise.all(this.connections.splice(0).map((nc) => nc.drain().catch(() => nc.close())));
    this.options.logger.info('replica process stopped');
  }
}

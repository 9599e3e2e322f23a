/** The nats-server harness lives in src/dev (paxlog dev uses it too). */
export * from '../../src/dev/NatsServer.js';

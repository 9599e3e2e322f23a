/**
 * paxlog's public API. Internals stay behind this file; what it exports is what users may rely on.
 */
export {
  type AppendOptions,
  ConflictError,
  NoLeaderError,
  PaxlogClient,
  PaxlogError,
  PayloadTooLargeError,
  RequestError,
  RetentionError,
  type StreamEntry,
  type StreamOptions,
  TimeoutError,
} from './client/PaxlogClient.js';
export { Producer, type ProducerOptions } from './client/Producer.js';
export { type NatsAccess, NatsAccessError } from './transport/natsAccess.js';
export type { CommittedEntry, Entry, EntryResult } from './log/types.js';
export { DevCluster } from './dev/DevCluster.js';
/** The pure consensus core, for embedding paxlog's replication in another driver. */
export * as core from './log/mod.js';
export { Replica, type ReplicaMessage, type ReplicaReady } from './replica/Replica.js';
export { PaxosLease } from './election/PaxosLease.js';

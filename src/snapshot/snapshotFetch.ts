import { createHash } from 'node:crypto';
import { closeSync, ftruncateSync, fsyncSync, openSync, writeSync } from 'node:fs';
import type { NatsConnection } from '@nats-io/transport-node';
import type { ReplicaId } from '../log/ballot.js';
import { snapshotSubject } from '../transport/subjects.js';
import { PROTOCOL_VERSION } from '../transport/wireLimits.js';
import type { SnapshotManifest } from './SnapshotStore.js';
import { decodeSnapshotReply, encodeSnapshotRequest, snapshotChunkBytesMax, type SnapshotRequest } from './snapshotWire.js';

/** Chunk requests one transfer keeps in flight: enough to hide a round trip, bounded. */
export const snapshotChunksInflightMax = 4;

export interface SnapshotProgress {
  readonly source: ReplicaId;
  readonly bytesDone: number;
  readonly bytesTotal: number;
}

export interface SnapshotFetchOptions {
  readonly nc: NatsConnection;
  readonly log: string;
  /** Replicas to try, in order; each attempt starts over from byte 0. */
  readonly peers: readonly ReplicaId[];
  readonly instanceMin: number;
  /** Where the snapshot lands (a temporary file: the caller installs it). */
  readonly path: string;
  /** How long `open` may take (the peer may have to take the snapshot first). */
  readonly openTimeoutMs: number;
  readonly chunkTimeoutMs: number;
  readonly onProgress: (progress: SnapshotProgress) => void;
  readonly onAttemptFailed: (peer: ReplicaId, error: Error) => void;
  /** Checked between chunks: a transfer stops as soon as it is no longer wanted. */
  readonly isCancelled: () => boolean;
}

/**
 * Copies a snapshot at or beyond `instanceMin` from the first peer that can serve it, in bounded
 * chunks with a bounded number in flight, checking its SHA-256 and size before it returns; the
 * file is fsynced. A peer that fails mid-transfer is dropped and the next one starts over.
 */
export async function snapshotFetch(options: SnapshotFetchOptions): Promise<SnapshotManifest> {
  let lastError: Error = new Error('no peer to fetch a snapshot from');
  for (const peer of options.peers) {
    if (options.isCancelled()) throw new Error('snapshot transfer cancelled');
    try {
      return await fetchFrom(peer, options);
    } catch (error) {
      lastError = error as Error;
      options.onAttemptFailed(peer, lastError);
    }
  }
  throw lastError;
}

async function ask(peer: ReplicaId, request: SnapshotRequest, options: SnapshotFetchOptions & { timeoutMs: number }) {
  const subject = snapshotSubject({ log: options.log, replica: peer });
  const msg = await options.nc.request(subject, encodeSnapshotRequest(request), { timeout: options.timeoutMs });
  const decoded = decodeSnapshotReply(msg.data);
  if (!decoded.ok) throw new Error(`replica ${peer} sent a bad snapshot reply: ${decoded.problem}: ${decoded.detail}`);
  if (!decoded.body.ok) throw new Error(`replica ${peer} refused: ${decoded.body.code}: ${decoded.body.message}`);
  return decoded.body;
}

async function fetchFrom(peer: ReplicaId, options: SnapshotFetchOptions): Promise<SnapshotManifest> {
  const base = { v: PROTOCOL_VERSION, log: options.log } as const;
  const opened = await ask(peer, { ...base, op: 'open', instanceMin: options.instanceMin }, { ...options, timeoutMs: options.openTimeoutMs });
  const manifest = opened.snapshot;
  if (manifest === undefined) throw new Error(`replica ${peer} opened no snapshot`);
  if (manifest.instance < options.instanceMin) throw new Error(`replica ${peer} offered instance ${manifest.instance} < ${options.instanceMin}`);
  const hash = createHash('sha256');
  const fd = openSync(options.path, 'w');
  try {
    ftruncateSync(fd, 0);
    const chunk = (at: number) =>
      ask(peer, { ...base, op: 'chunk', name: manifest.name, at, length: Math.min(snapshotChunkBytesMax, manifest.bytes - at) }, { ...options, timeoutMs: options.chunkTimeoutMs });
    const inflight: Array<{ at: number; reply: ReturnType<typeof chunk> }> = [];
    let asked = 0;
    for (let done = 0; done < manifest.bytes; ) {
      while (inflight.length < snapshotChunksInflightMax && asked < manifest.bytes) {
        const reply = chunk(asked);
        reply.catch(() => undefined); // awaited below in order; a failure there ends the attempt
        inflight.push({ at: asked, reply });
        asked += Math.min(snapshotChunkBytesMax, manifest.bytes - asked);
      }
      const next = inflight.shift()!;
      const data = (await next.reply).data;
      if (data === undefined || data.byteLength === 0 || next.at !== done) throw new Error(`replica ${peer} sent an empty or misplaced chunk at ${next.at}`);
      if (options.isCancelled()) throw new Error('snapshot transfer cancelled');
      writeSync(fd, data, 0, data.byteLength, done);
      hash.update(data);
      done += data.byteLength;
      options.onProgress({ source: peer, bytesDone: done, bytesTotal: manifest.bytes });
    }
    const sha256 = hash.digest('hex');
    if (sha256 !== manifest.sha256) throw new Error(`snapshot ${manifest.name} from replica ${peer}: SHA-256 ${sha256}, expected ${manifest.sha256}`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return manifest;
}

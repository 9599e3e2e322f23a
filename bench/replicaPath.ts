/**
 * The CPU a follower spends on one synchronous append, in one process and with no NATS and no
 * disk wait: the two peer batches it receives (the accept, then the commit notice) are decoded,
 * stepped through the pure core, and their Readys persisted to a real SqliteLog (on /dev/shm when
 * there is one, so an fsync costs nothing) with its replies encoded. It moves far less with the
 * machine's noise than the cluster figures (about ±15% over a morning, against ±25-50%): it is the
 * number to watch when shaving work off the replica's path. (What it leaves out, per append and replica on this VM: about 0.35 ms of
 * system CPU per fsync, and the NATS reads, writes and loop wake-ups.)
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { type Ballot, ballotZero } from '../src/log/ballot.js';
import { SeededRandom } from '../src/log/random.js';
import { Replica, type ReplicaMessage } from '../src/replica/Replica.js';
import { SqliteLog } from '../src/storage/SqliteLog.js';
import { decodePeerBatch, encodePeerBatch, PROTOCOL_VERSION } from '../src/transport/wire.js';

const log = 'bench';
const leader = 1;
const follower = 2;

interface Stages {
  decode: number;
  core: number;
  persist: number;
  encode: number;
}

/** One peer batch from the leader, handled as LogNode handles it; returns the batches committed. */
function handle(options: { replica: Replica; store: SqliteLog; bytes: Uint8Array; stages: Stages }): number {
  const { replica, store, stages } = options;
  let at = performance.now();
  const lap = (stage: keyof Stages): void => {
    const now = performance.now();
    stages[stage] += now - at;
    at = now;
  };
  const decoded = decodePeerBatch(options.bytes, { bytesMax: 1 << 20 });
  if (!decoded.ok) throw new Error(`replica path: ${decoded.problem}: ${decoded.detail}`);
  lap('decode');
  for (const message of decoded.batch.messages) replica.step(message);
  if (!replica.hasReady()) return 0;
  const ready = replica.ready();
  lap('core');
  store.persist(ready);
  lap('persist');
  const out = [...ready.messagesEarly, ...ready.messages].filter((envelope) => envelope.to !== follower);
  if (out.length > 0) encodePeerBatch({ v: PROTOCOL_VERSION, log, from: follower, to: leader, messages: out.map((envelope) => envelope.message) });
  lap('encode');
  replica.advance();
  lap('core');
  return ready.committed.length;
}

function fromLeader(messages: ReplicaMessage[]): Uint8Array {
  return encodePeerBatch({ v: PROTOCOL_VERSION, log, from: leader, to: follower, messages });
}

/** A follower that voted before (no rebuild), promised to the leader's ballot. */
function followerOpen(path: string): { replica: Replica; store: SqliteLog } {
  const store = SqliteLog.open({ path, dedupIdsMax: 100_000 });
  store.persist({ hardState: { promised: ballotZero, roundMax: 0, incarnation: store.hardState().incarnation }, records: [], committed: [], mustSync: true });
  const replica = new Replica({
    id: follower,
    peers: [leader, follower, 3],
    epoch: store.epochNext(),
    hardState: store.hardState(),
    learnerState: store.learnerState(),
    store,
    random: new SeededRandom(1),
    election: false,
  });
  return { replica, store };
}

/** What the leader sends for each append, encoded up front so only the follower's work is timed. */
function leaderBatches(options: { ballot: Ballot; appends: number }): Uint8Array[] {
  const { ballot } = options;
  const data = new Uint8Array(100).fill(120);
  const batches: Uint8Array[] = [];
  for (let instance = 1; instance <= options.appends; instance++) {
    const value = { valueId: `1.1:${instance}`, entries: [{ data, id: `path-${instance}` }], timestampMs: 1_700_000_000_000 + instance };
    batches.push(fromLeader([{ type: 'accept', from: leader, ballot, instance, value }]));
    batches.push(fromLeader([{ type: 'commit', from: leader, ballot, chosen: [{ instance, valueId: value.valueId }], committedInstance: instance - 1, tailPublisher: 3 }]));
  }
  return batches;
}

export async function replicaPathRun(options: { appends: number }): Promise<Record<string, number>> {
  const dir = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'paxlog-path-'));
  try {
    const { replica, store } = followerOpen(join(dir, `${log}.sqlite`));
    const stages: Stages = { decode: 0, core: 0, persist: 0, encode: 0 };
    const ballot: Ballot = { round: 1, replica: leader, incarnation: 7 };
    handle({ replica, store, stages, bytes: fromLeader([{ type: 'prepare', from: leader, ballot, instanceFrom: 1 }]) });
    Object.assign(stages, { decode: 0, core: 0, persist: 0, encode: 0 });
    const batches = leaderBatches({ ballot, appends: options.appends });
    const cpuBefore = process.cpuUsage();
    let committed = 0;
    for (const bytes of batches) committed += handle({ replica, store, stages, bytes });
    const cpu = process.cpuUsage(cpuBefore);
    if (committed !== options.appends) throw new Error(`replica path: ${committed} of ${options.appends} appends committed`);
    store.close();
    const perAppendUs = (ms: number): number => (ms * 1000) / options.appends;
    return {
      'follower path, in-process, no fsync: µs CPU per sync append': (cpu.user + cpu.system) / options.appends,
      'follower path: decode µs': perAppendUs(stages.decode),
      'follower path: persist µs': perAppendUs(stages.persist),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

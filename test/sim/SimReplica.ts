import type { ReplicaId } from '../../src/log/ballot.js';
import { MemoryLogStore, MemoryStableStore } from '../../src/log/MemoryLogStore.js';
import { MemoryStateMachine } from '../../src/log/MemoryStateMachine.js';
import type { SeededRandom } from '../../src/log/random.js';
import { learnerStateEmpty, type LearnerState } from '../../src/log/types.js';
import { Replica, type ReplicaOptions, type ReplicaReady } from '../../src/replica/Replica.js';
import type { InstanceRecord } from '../../src/log/types.js';

/** What survives a crash: the acceptor's disk, the restart counter and the state machine's last save. */
export interface SimDisk {
  readonly log: MemoryLogStore;
  readonly stable: MemoryStableStore;
  epoch: number;
  checkpoint: { state: LearnerState; entriesLength: number };
  /**
   * Writes made without a sync (chosen marks: see readyMustSync), oldest first, each with what it
   * replaced. A crash keeps a random prefix of them; the next synced write makes them all durable.
   */
  unsynced: Array<{ instance: number; replaced: InstanceRecord | undefined }>;
}

/**
 * An empty disk; `rebuilding` as a new real store has it (the simulator's first disks vote at once).
 * Each disk of a replica gets the next incarnation (a real store draws one at random): counted, not
 * drawn, so the seeded random sequence is the same as before incarnations existed.
 */
function freshDisk(options: { rebuilding: boolean; incarnation: number }): SimDisk {
  const stable = new MemoryStableStore({ incarnation: options.incarnation });
  if (options.rebuilding) stable.setHardState({ ...stable.hardState(), rebuilding: true });
  // A real new store starts its restart counter at a random base; here each disk a million above the last.
  const epoch = (options.incarnation - 1) * 1_000_000;
  return { log: new MemoryLogStore(), stable, epoch, checkpoint: { state: learnerStateEmpty, entriesLength: 0 }, unsynced: [] };
}

/** Builds a replica; canaries pass a broken core or election through `makePaxos`/`makeLease`. */
export type ReplicaFactory = (options: ReplicaOptions) => Replica;

/**
 * A simulated replica process: the pure replica plus a driver that persists each Ready to a
 * simulated disk (taking a simulated fsync), then sends, applies and answers, then advances. A crash
 * while a Ready is being persisted keeps a random prefix of its writes.
 */
export class SimReplica {
  core: Replica | null = null;
  fsm: MemoryStateMachine | null = null;
  disk: SimDisk = freshDisk({ rebuilding: false, incarnation: 1 });
  persisting: ReplicaReady | null = null;
  /** Bumped on every crash, so events scheduled for an earlier life are ignored. */
  life = 0;
  /** This replica's clock rate: real time per tick is tickMs / rate. */
  rate = 1;

  constructor(
    readonly id: ReplicaId,
    private readonly options: {
      readonly peers: readonly ReplicaId[];
      readonly random: SeededRandom;
      readonly make: ReplicaFactory;
      readonly replica: Pick<ReplicaOptions, 'paxosLimits' | 'leaseLimits' | 'election'>;
      readonly dedupIdsMax: number;
    },
  ) {}

  start(): void {
    const checkpoint = this.disk.checkpoint;
    const entries = this.fsm?.entries.slice(0, checkpoint.entriesLength) ?? [];
    this.fsm = new MemoryStateMachine({ state: checkpoint.state, entries, dedupIdsMax: this.options.dedupIdsMax });
    this.disk.epoch++;
    this.core = this.options.make({
      ...this.options.replica,
      id: this.id,
      peers: this.options.peers,
      epoch: this.disk.epoch,
      hardState: this.disk.stable.hardState(),
      learnerState: checkpoint.state,
      store: this.disk.log,
      random: this.options.random.fork(),
    });
    this.persisting = null;
  }

  /**
   * The process dies: volatile state goes. The disk keeps a random prefix of what was written since
   * the last sync: the unsynced writes, then the Ready being persisted (only if all of those stayed).
   */
  crash(random: SeededRandom): { ready: ReplicaReady; recordsKept: number } | null {
    const ready = this.persisting;
    const unsyncedCount = this.disk.unsynced.length;
    const unsyncedKept = random.int(0, unsyncedCount);
    for (const lost of this.disk.unsynced.splice(unsyncedKept).reverse()) this.disk.log.restore(lost.instance, lost.replaced);
    this.disk.unsynced = [];
    let kept: { ready: ReplicaReady; recordsKept: number } | null = null;
    if (ready !== null && unsyncedKept === unsyncedCount) {
      const writes = (ready.hardState === null ? 0 : 1) + ready.records.length;
      const count = random.int(0, writes);
      const hardStateKept = ready.hardState !== null && count >= 1;
      const recordsKept = Math.max(0, count - (ready.hardState === null ? 0 : 1));
      this.write(ready, recordsKept, hardStateKept);
      this.disk.unsynced = [];
      kept = { ready, recordsKept };
    }
    this.core = null;
    this.persisting = null;
    this.life++;
    return kept;
  }

  /** A Ready that must sync makes every earlier write durable; one that need not is journaled. */
  write(ready: ReplicaReady, recordsKept: number, hardStateKept: boolean): void {
    if (hardStateKept && ready.hardState !== null) this.disk.stable.setHardState(ready.hardState);
    const records = ready.records.slice(0, recordsKept);
    if (ready.mustSync) {
      this.disk.log.write(records);
      this.disk.unsynced = [];
      return;
    }
    for (const record of records) {
      this.disk.unsynced.push({ instance: record.instance, replaced: this.disk.log.record(record.instance) });
      this.disk.log.write([record]);
    }
  }

  /** The disk is lost: a fresh empty one, marked rebuilding as a real new store is. */
  wipe(): void {
    this.disk = freshDisk({ rebuilding: true, incarnation: this.disk.stable.hardState().incarnation + 1 });
    this.fsm = null;
  }

  /**
   * Installs `from`'s snapshot: its chosen records up to its committed instance, its compaction
   * point, its state machine; this replica keeps its own hard state, restart counter and votes
   * above the snapshot. The caller restarts the Multi-Paxos core on it (as the driver does, in place).
   */
  installSnapshot(from: SimReplica): { committedInstance: number } {
    const source = from.fsm;
    if (source === null) throw new Error(`replica ${from.id} has no state machine to snapshot`);
    const state = source.learnerState();
    const log = new MemoryLogStore();
    log.write(from.disk.log.records({ instanceFrom: 1, instanceTo: state.committedInstance, recordsMax: Number.MAX_SAFE_INTEGER }).filter((r) => r.chosen));
    log.compactThrough(from.disk.log.compactedInstance());
    // This replica's own votes above the snapshot stay: an acceptor never forgets what it accepted.
    log.write(this.disk.log.records({ instanceFrom: state.committedInstance + 1, instanceTo: Number.MAX_SAFE_INTEGER, recordsMax: Number.MAX_SAFE_INTEGER }));
    this.disk = { ...this.disk, log, unsynced: [], checkpoint: { state, entriesLength: source.entries.length } };
    this.fsm = new MemoryStateMachine({ state, entries: source.entries, dedupIdsMax: this.options.dedupIdsMax });
    return { committedInstance: state.committedInstance };
  }

  /** The state machine saves its state lazily: the learner re-learns the rest after a crash. */
  checkpoint(): void {
    if (this.fsm === null) return;
    this.disk.checkpoint = { state: this.fsm.learnerState(), entriesLength: this.fsm.entries.length };
  }
}

import type { ReplicaId } from '../../src/log/ballot.js';
import { MemoryLogStore, MemoryStableStore } from '../../src/log/MemoryLogStore.js';
import { MemoryStateMachine } from '../../src/log/MemoryStateMachine.js';
import type { SeededRandom } from '../../src/log/random.js';
import { learnerStateEmpty, type LearnerState } from '../../src/log/types.js';
import { Replica, type ReplicaOptions, type ReplicaReady } from '../../src/replica/Replica.js';

/** What survives a crash: the acceptor's disk, the restart counter and the state machine's last save. */
export interface SimDisk {
  readonly log: MemoryLogStore;
  readonly stable: MemoryStableStore;
  epoch: number;
  checkpoint: { state: LearnerState; entriesLength: number };
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
  readonly disk: SimDisk = {
    log: new MemoryLogStore(),
    stable: new MemoryStableStore(),
    epoch: 0,
    checkpoint: { state: learnerStateEmpty, entriesLength: 0 },
  };
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

  /** The process dies: volatile state goes, and a Ready being persisted keeps a random prefix. */
  crash(random: SeededRandom): { ready: ReplicaReady; recordsKept: number } | null {
    const ready = this.persisting;
    let kept: { ready: ReplicaReady; recordsKept: number } | null = null;
    if (ready !== null) {
      const writes = (ready.hardState === null ? 0 : 1) + ready.records.length;
      const count = random.int(0, writes);
      const hardStateKept = ready.hardState !== null && count >= 1;
      const recordsKept = Math.max(0, count - (ready.hardState === null ? 0 : 1));
      this.write(ready, recordsKept, hardStateKept);
      kept = { ready, recordsKept };
    }
    this.core = null;
    this.persisting = null;
    this.life++;
    return kept;
  }

  write(ready: ReplicaReady, recordsKept: number, hardStateKept: boolean): void {
    if (hardStateKept && ready.hardState !== null) this.disk.stable.setHardState(ready.hardState);
    this.disk.log.write(ready.records.slice(0, recordsKept));
  }

  /** The state machine saves its state lazily: the learner re-learns the rest after a crash. */
  checkpoint(): void {
    if (this.fsm === null) return;
    this.disk.checkpoint = { state: this.fsm.learnerState(), entriesLength: this.fsm.entries.length };
  }
}

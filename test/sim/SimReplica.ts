import type { ReplicaId } from '../../src/log/ballot.js';
import type { PaxosLimits } from '../../src/log/limits.js';
import type { Ready } from '../../src/log/Effects.js';
import { MemoryLogStore, MemoryStableStore } from '../../src/log/MemoryLogStore.js';
import { MemoryStateMachine } from '../../src/log/MemoryStateMachine.js';
import { MultiPaxos, type MultiPaxosOptions } from '../../src/log/MultiPaxos.js';
import type { SeededRandom } from '../../src/log/random.js';
import { learnerStateEmpty, type LearnerState } from '../../src/log/types.js';

/** What survives a crash: the acceptor's disk and the state machine's last checkpoint. */
export interface SimDisk {
  readonly log: MemoryLogStore;
  readonly stable: MemoryStableStore;
  checkpoint: { state: LearnerState; entriesLength: number };
}

export type CoreFactory = (options: MultiPaxosOptions) => MultiPaxos;

/**
 * A simulated replica process: the pure core plus a driver that persists each Ready to a
 * simulated disk (taking `fsyncMs`), then sends, applies and answers, then advances. A crash while
 * a Ready is being persisted keeps a random prefix of its writes.
 */
export class SimReplica {
  core: MultiPaxos | null = null;
  fsm: MemoryStateMachine | null = null;
  readonly disk: SimDisk = {
    log: new MemoryLogStore(),
    stable: new MemoryStableStore(),
    checkpoint: { state: learnerStateEmpty, entriesLength: 0 },
  };
  persisting: Ready | null = null;
  /** Bumped on every crash, so events scheduled for an earlier life are ignored. */
  life = 0;

  constructor(
    readonly id: ReplicaId,
    private readonly options: {
      readonly peers: readonly ReplicaId[];
      readonly random: SeededRandom;
      readonly makeCore: CoreFactory;
      readonly limits: Partial<PaxosLimits>;
      readonly leadership: 'silence' | 'external';
      readonly dedupIdsMax: number;
    },
  ) {}

  get up(): boolean {
    return this.core !== null;
  }

  start(): void {
    const checkpoint = this.disk.checkpoint;
    const entries = this.fsm?.entries.slice(0, checkpoint.entriesLength) ?? [];
    this.fsm = new MemoryStateMachine({ state: checkpoint.state, entries, dedupIdsMax: this.options.dedupIdsMax });
    this.core = this.options.makeCore({
      id: this.id,
      peers: this.options.peers,
      hardState: this.disk.stable.hardState(),
      learnerState: checkpoint.state,
      store: this.disk.log,
      random: this.options.random.fork(),
      limits: this.options.limits,
      leadership: this.options.leadership,
    });
    this.persisting = null;
  }

  /** The process dies: volatile state goes, and a Ready being persisted keeps a random prefix. */
  crash(random: SeededRandom, onDurable: (ready: Ready, recordsKept: number, hardStateKept: boolean) => void): void {
    const ready = this.persisting;
    if (ready !== null) {
      const writes = (ready.hardState === null ? 0 : 1) + ready.records.length;
      const kept = random.int(0, writes);
      const hardStateKept = ready.hardState !== null && kept >= 1;
      const recordsKept = Math.max(0, kept - (ready.hardState === null ? 0 : 1));
      this.write(ready, recordsKept, hardStateKept);
      onDurable(ready, recordsKept, hardStateKept);
    }
    this.core = null;
    this.persisting = null;
    this.life++;
  }

  write(ready: Ready, recordsKept: number, hardStateKept: boolean): void {
    if (hardStateKept && ready.hardState !== null) this.disk.stable.setHardState(ready.hardState);
    this.disk.log.write(ready.records.slice(0, recordsKept));
  }

  /** The state machine saves its state lazily: the learner re-learns the rest after a crash. */
  checkpoint(): void {
    if (this.fsm === null) return;
    this.disk.checkpoint = { state: this.fsm.learnerState(), entriesLength: this.fsm.entries.length };
  }
}

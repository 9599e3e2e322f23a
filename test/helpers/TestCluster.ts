import type { ReplicaId } from '../../src/log/ballot.js';
import type { Ready } from '../../src/log/Effects.js';
import type { PaxosLimits } from '../../src/log/limits.js';
import { MemoryLogStore, MemoryStableStore } from '../../src/log/MemoryLogStore.js';
import { MemoryStateMachine } from '../../src/log/MemoryStateMachine.js';
import type { Envelope, PaxosMessage } from '../../src/log/messages.js';
import { MultiPaxos } from '../../src/log/MultiPaxos.js';
import { SeededRandom } from '../../src/log/random.js';
import { type Entry, learnerStateEmpty, type ProposalOutcome } from '../../src/log/types.js';

interface Node {
  core: MultiPaxos;
  log: MemoryLogStore;
  stable: MemoryStableStore;
  fsm: MemoryStateMachine;
  readonly outcomes: Map<number, ProposalOutcome>;
}

/**
 * A deterministic in-process network for unit tests, after etcd-raft's `network` helper: every
 * Ready is persisted at once, messages queue in FIFO order, and links can be dropped, cut or a
 * replica isolated. Nothing is random but the cores' seeded back-off.
 */
export class TestCluster {
  readonly nodes = new Map<ReplicaId, Node>();
  readonly sent: Envelope[] = [];
  readonly readies: Array<{ replica: ReplicaId; ready: Ready }> = [];
  private readonly queue: Array<{ from: ReplicaId; envelope: Envelope }> = [];
  private readonly cutLinks = new Set<string>();
  dropIf: ((from: ReplicaId, envelope: Envelope) => boolean) | null = null;
  /** Each committed batch the core marked for a replica to publish on the tail (as LogNode publishes it). */
  readonly tailPublished: Array<{ instance: number; replica: ReplicaId }> = [];

  constructor(
    readonly size: number,
    private readonly limits: Partial<PaxosLimits> = {},
  ) {
    for (let id = 1; id <= size; id++) {
      const log = new MemoryLogStore();
      const stable = new MemoryStableStore();
      const fsm = new MemoryStateMachine({ state: learnerStateEmpty, entries: [], dedupIdsMax: 1000 });
      this.nodes.set(id, { core: this.makeCore(id, log, stable, fsm), log, stable, fsm, outcomes: new Map() });
    }
  }

  get peers(): ReplicaId[] {
    return [...this.nodes.keys()];
  }

  private makeCore(id: ReplicaId, log: MemoryLogStore, stable: MemoryStableStore, fsm: MemoryStateMachine): MultiPaxos {
    return new MultiPaxos({
      id,
      peers: Array.from({ length: this.size }, (_, i) => i + 1),
      hardState: stable.hardState(),
      learnerState: fsm.learnerState(),
      store: log,
      random: new SeededRandom(id),
      limits: { dedupIdsMax: 1000, ...this.limits },
      leadership: 'external',
    });
  }

  node(id: ReplicaId): Node {
    const node = this.nodes.get(id);
    if (node === undefined) throw new Error(`no replica ${id}`);
    return node;
  }

  core(id: ReplicaId): MultiPaxos {
    return this.node(id).core;
  }

  cut(a: ReplicaId, b: ReplicaId): void {
    this.cutLinks.add(`${a}>${b}`).add(`${b}>${a}`);
  }

  isolate(id: ReplicaId): void {
    for (const other of this.peers) if (other !== id) this.cut(id, other);
  }

  heal(): void {
    this.cutLinks.clear();
    this.dropIf = null;
  }

  propose(id: ReplicaId, entries: Entry[]): number {
    return this.core(id).propose(entries, { timestampMs: 1000 });
  }

  /** Persists and collects every replica's Ready (without delivering anything). */
  flush(): void {
    for (const [id, node] of this.nodes) {
      while (node.core.hasReady()) {
        const ready = node.core.ready();
        for (const batch of ready.committed) if (batch.publishTail === true) this.tailPublished.push({ instance: batch.instance, replica: id });
        this.readies.push({ replica: id, ready });
        if (ready.hardState !== null) node.stable.setHardState(ready.hardState);
        node.log.write(ready.records);
        for (const batch of ready.committed) node.fsm.apply(batch);
        for (const outcome of ready.outcomes) node.outcomes.set(outcome.proposalId, outcome);
        for (const envelope of [...ready.messagesEarly, ...ready.messages]) this.queue.push({ from: id, envelope });
        node.core.advance();
      }
    }
  }

  /** Delivers queued messages in FIFO order until nothing moves (or `stepsMax` deliveries). */
  settle(stepsMax = 100_000): number {
    let steps = 0;
    this.flush();
    while (this.queue.length > 0 && steps < stepsMax) {
      const { from, envelope } = this.queue.shift()!;
      steps++;
      if (this.cutLinks.has(`${from}>${envelope.to}`) || this.dropIf?.(from, envelope) === true) continue;
      this.sent.push(envelope);
      this.core(envelope.to).step(envelope.message);
      this.flush();
    }
    return steps;
  }

  /** Holds the queued messages back: returns them and empties the queue. */
  takeQueued(): Array<{ from: ReplicaId; envelope: Envelope }> {
    this.flush();
    return this.queue.splice(0);
  }

  deliver(envelope: Envelope): void {
    this.core(envelope.to).step(envelope.message);
    this.flush();
  }

  tick(times = 1): void {
    for (let i = 0; i < times; i++) {
      for (const node of this.nodes.values()) node.core.tick();
      this.settle();
    }
  }

  /** Restarts a replica from its stores; `fsmFromScratch` drops its applied state (it re-learns). */
  restart(id: ReplicaId, options: { fsmFromScratch: boolean }): void {
    const node = this.node(id);
    if (options.fsmFromScratch) node.fsm = new MemoryStateMachine({ state: learnerStateEmpty, entries: [], dedupIdsMax: 1000 });
    node.core = this.makeCore(id, node.log, node.stable, node.fsm);
    node.outcomes.clear();
  }

  /** The replica's disk is lost: it restarts on empty stores marked rebuilding, as a new store is. */
  wipe(id: ReplicaId): void {
    const node = this.node(id);
    node.log = new MemoryLogStore();
    // A new disk, a new life: a real store draws a new incarnation at random (see Ballot).
    node.stable = new MemoryStableStore({ incarnation: node.stable.hardState().incarnation + 1 });
    node.stable.setHardState({ ...node.stable.hardState(), rebuilding: true });
    node.fsm = new MemoryStateMachine({ state: learnerStateEmpty, entries: [], dedupIdsMax: 1000 });
    node.core = this.makeCore(id, node.log, node.stable, node.fsm);
    node.outcomes.clear();
  }

  countSent(type: PaxosMessage['type']): number {
    return this.sent.filter((e) => e.message.type === type).length;
  }

  /** Each replica's committed entries as `offset:id`. */
  logs(): Map<ReplicaId, string[]> {
    const logs = new Map<ReplicaId, string[]>();
    for (const [id, node] of this.nodes) logs.set(id, node.fsm.entries.map((e) => `${e.offset}:${e.id ?? ''}`));
    return logs;
  }
}

export function entry(id: string, text = id): Entry {
  return { id, data: new TextEncoder().encode(text) };
}

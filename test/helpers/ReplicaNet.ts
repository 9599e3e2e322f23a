import type { ReplicaId } from '../../src/log/ballot.js';
import { MemoryLogStore, MemoryStableStore } from '../../src/log/MemoryLogStore.js';
import { MemoryStateMachine } from '../../src/log/MemoryStateMachine.js';
import type { Envelope } from '../../src/log/messages.js';
import { SeededRandom } from '../../src/log/random.js';
import { type Entry, learnerStateEmpty, type ProposalOutcome } from '../../src/log/types.js';
import { Replica, type ReplicaMessage } from '../../src/replica/Replica.js';

interface Node {
  replica: Replica;
  readonly log: MemoryLogStore;
  readonly stable: MemoryStableStore;
  fsm: MemoryStateMachine;
  epoch: number;
  readonly outcomes: Map<number, ProposalOutcome>;
}

export const replicaNetLease = { leaseTicks: 100, roundTicks: 10, backoffTicksMax: 10, gatherTicks: 2 };

/** Whole replicas (Multi-Paxos led by PaxosLease) on an instant, in-order, cuttable network. */
export class ReplicaNet {
  readonly nodes = new Map<ReplicaId, Node>();
  readonly down = new Set<ReplicaId>();
  private readonly cut = new Set<string>();
  tickCount = 0;

  constructor(readonly size: number) {
    for (let id = 1; id <= size; id++) {
      const node: Node = {
        replica: null as unknown as Replica,
        log: new MemoryLogStore(),
        stable: new MemoryStableStore(),
        fsm: new MemoryStateMachine({ state: learnerStateEmpty, entries: [], dedupIdsMax: 1000 }),
        epoch: 0,
        outcomes: new Map(),
      };
      this.nodes.set(id, node);
      this.start(id);
    }
  }

  start(id: ReplicaId): void {
    const node = this.node(id);
    node.epoch++;
    node.outcomes.clear();
    node.replica = new Replica({
      id,
      peers: Array.from({ length: this.size }, (_, i) => i + 1),
      epoch: node.epoch,
      hardState: node.stable.hardState(),
      learnerState: node.fsm.learnerState(),
      store: node.log,
      random: new SeededRandom(id * 100 + node.epoch),
      leaseLimits: replicaNetLease,
    });
    this.down.delete(id);
  }

  node(id: ReplicaId): Node {
    return this.nodes.get(id)!;
  }

  replica(id: ReplicaId): Replica {
    return this.node(id).replica;
  }

  isolate(id: ReplicaId): void {
    for (let other = 1; other <= this.size; other++) if (other !== id) this.cut.add(`${id}>${other}`).add(`${other}>${id}`);
  }

  heal(): void {
    this.cut.clear();
  }

  serving(): ReplicaId[] {
    return [...this.nodes].filter(([id, n]) => !this.down.has(id) && n.replica.isServing).map(([id]) => id);
  }

  propose(id: ReplicaId, entries: Entry[]): number {
    const proposalId = this.replica(id).propose(entries, { timestampMs: this.tickCount * 10 });
    this.flush();
    return proposalId;
  }

  flush(): void {
    const queue: Array<{ from: ReplicaId; envelope: Envelope<ReplicaMessage> }> = [];
    const collect = () => {
      for (const [id, node] of this.nodes) {
        if (this.down.has(id)) continue;
        while (node.replica.hasReady()) {
          const ready = node.replica.ready();
          if (ready.hardState !== null) node.stable.setHardState(ready.hardState);
          node.log.write(ready.records);
          for (const batch of ready.committed) node.fsm.apply(batch);
          for (const outcome of ready.outcomes) node.outcomes.set(outcome.proposalId, outcome);
          for (const envelope of [...ready.leaseMessages, ...ready.messagesEarly, ...ready.messages]) queue.push({ from: id, envelope });
          node.replica.advance();
        }
      }
    };
    collect();
    while (queue.length > 0) {
      const { from, envelope } = queue.shift()!;
      if (this.down.has(envelope.to) || this.cut.has(`${from}>${envelope.to}`)) continue;
      this.replica(envelope.to).step(envelope.message);
      collect();
    }
  }

  tick(times = 1): void {
    for (let i = 0; i < times; i++) {
      this.tickCount++;
      for (const [id, node] of this.nodes) if (!this.down.has(id)) node.replica.tick();
      this.flush();
    }
  }

  tickUntil(done: () => boolean, ticksMax: number): number {
    for (let i = 1; i <= ticksMax; i++) {
      this.tick();
      if (done()) return i;
    }
    throw new Error(`not done within ${ticksMax} ticks`);
  }

  /** Ticks until exactly one replica serves; returns it. */
  leader(ticksMax = 600): ReplicaId {
    this.tickUntil(() => this.serving().length === 1, ticksMax);
    return this.serving()[0]!;
  }
}

import type { LeaseMessage, LogPosition } from '../../src/election/messages.js';
import type { LeaseEvent } from '../../src/election/LeaseProposer.js';
import { PaxosLease } from '../../src/election/PaxosLease.js';
import type { LeaseLimits } from '../../src/election/limits.js';
import type { ReplicaId } from '../../src/log/ballot.js';
import type { Envelope } from '../../src/log/messages.js';
import { SeededRandom } from '../../src/log/random.js';

/** PaxosLease nodes on an instant, in-order network whose messages can be dropped or held back. */
export class LeaseNet {
  readonly nodes = new Map<ReplicaId, PaxosLease>();
  readonly positions = new Map<ReplicaId, LogPosition>();
  /** Replicas that may not stand (as while a wiped replica rebuilds). */
  readonly rebuilding = new Set<ReplicaId>();
  readonly events: Array<{ replica: ReplicaId; event: LeaseEvent; tick: number }> = [];
  readonly sent: Array<Envelope<LeaseMessage> & { from: ReplicaId }> = [];
  dropIf: ((from: ReplicaId, envelope: Envelope<LeaseMessage>) => boolean) | null = null;
  /** Ticks a message is held back before delivery (0: at once), as by a slow link or a busy loop. */
  delayIf: ((from: ReplicaId, envelope: Envelope<LeaseMessage>) => number) | null = null;
  private readonly delayed: Array<{ dueTick: number; from: ReplicaId; envelope: Envelope<LeaseMessage> }> = [];
  readonly down = new Set<ReplicaId>();
  tickCount = 0;
  private readonly epochs = new Map<ReplicaId, number>();

  constructor(
    readonly size: number,
    private readonly limits: Partial<LeaseLimits> = {},
  ) {
    for (let id = 1; id <= size; id++) {
      this.positions.set(id, { committedInstance: 0, acceptedInstanceMax: 0 });
      this.start(id);
    }
  }

  start(id: ReplicaId): void {
    const epoch = (this.epochs.get(id) ?? 0) + 1;
    this.epochs.set(id, epoch);
    this.down.delete(id);
    this.nodes.set(id, new PaxosLease({
      id,
      peers: Array.from({ length: this.size }, (_, i) => i + 1),
      epoch,
      random: new SeededRandom(id * 1000 + epoch),
      position: () => this.positions.get(id)!,
      mayCandidate: () => !this.rebuilding.has(id),
      limits: this.limits,
    }));
  }

  node(id: ReplicaId): PaxosLease {
    return this.nodes.get(id)!;
  }

  holders(): ReplicaId[] {
    return [...this.nodes].filter(([id, n]) => !this.down.has(id) && n.isHolder).map(([id]) => id);
  }

  /** Delivers until quiet. */
  flush(): void {
    const queue: Array<{ from: ReplicaId; envelope: Envelope<LeaseMessage> }> = [];
    const collect = () => {
      for (const [id, node] of this.nodes) {
        const { messages, events } = node.take();
        if (this.down.has(id)) continue;
        for (const event of events) this.events.push({ replica: id, event, tick: this.tickCount });
        for (const envelope of messages) queue.push({ from: id, envelope });
      }
    };
    collect();
    const due = this.delayed.filter((d) => d.dueTick <= this.tickCount);
    this.delayed.splice(0, this.delayed.length, ...this.delayed.filter((d) => d.dueTick > this.tickCount));
    const released = new Set(due.map((d) => d.envelope));
    queue.unshift(...due.map((d) => ({ from: d.from, envelope: d.envelope })));
    while (queue.length > 0) {
      const { from, envelope } = queue.shift()!;
      if (this.down.has(envelope.to) || this.dropIf?.(from, envelope) === true) continue;
      const delayTicks = released.has(envelope) ? 0 : (this.delayIf?.(from, envelope) ?? 0);
      if (delayTicks > 0) {
        this.delayed.push({ dueTick: this.tickCount + delayTicks, from, envelope });
        continue;
      }
      this.sent.push({ ...envelope, from });
      this.node(envelope.to).step(envelope.message);
      collect();
    }
  }

  tick(times = 1): void {
    for (let i = 0; i < times; i++) {
      this.tickCount++;
      for (const [id, node] of this.nodes) if (!this.down.has(id)) node.tick();
      this.flush();
    }
  }

  /** Ticks until `done` holds, at most `ticksMax` times; returns the ticks taken. */
  tickUntil(done: () => boolean, ticksMax: number): number {
    for (let i = 1; i <= ticksMax; i++) {
      this.tick();
      if (done()) return i;
    }
    throw new Error(`not done within ${ticksMax} ticks`);
  }
}

/**
 * Three Multi-Paxos cores wired together in one process, with the driver loop spelled out:
 * send each Ready's early messages, persist it, then send its messages, apply its committed
 * batches, answer its outcomes, and advance. Run: npx tsx examples/in-memory-cluster.ts
 */
import {
  type Envelope,
  learnerStateEmpty,
  MemoryLogStore,
  MemoryStableStore,
  MemoryStateMachine,
  MultiPaxos,
  SeededRandom,
} from '../src/log/mod.js';

const peers = [1, 2, 3];
const replicas = peers.map((id) => {
  const log = new MemoryLogStore();
  const stable = new MemoryStableStore();
  const fsm = new MemoryStateMachine({ state: learnerStateEmpty, entries: [], dedupIdsMax: 1000 });
  const core = new MultiPaxos({
    id, peers, hardState: stable.hardState(), learnerState: fsm.learnerState(), store: log,
    random: new SeededRandom(id), leadership: 'external',
  });
  return { id, core, log, stable, fsm };
});
const inbox: Envelope[] = [];

function drive(): void {
  for (const replica of replicas) {
    while (replica.core.hasReady()) {
      const ready = replica.core.ready();
      inbox.push(...ready.messagesEarly); // 0. these may leave before the writes (no votes in them)
      if (ready.hardState !== null) replica.stable.setHardState(ready.hardState); // 1. persist
      replica.log.write(ready.records);
      inbox.push(...ready.messages); // 2. send
      for (const batch of ready.committed) replica.fsm.apply(batch); // 3. apply
      for (const outcome of ready.outcomes) console.log(`replica ${replica.id}: proposal ${outcome.proposalId}`, JSON.stringify(outcome)); // 4. answer
      replica.core.advance(); // 5. advance
    }
  }
}

function settle(): void {
  drive();
  for (let envelope = inbox.shift(); envelope !== undefined; envelope = inbox.shift()) {
    replicas[envelope.to - 1]!.core.step(envelope.message);
    drive();
  }
}

const leader = replicas[0]!.core;
leader.campaign();
settle();
const text = new TextEncoder();
leader.propose([{ id: 'deposit-1', data: text.encode('deposit 100') }, { id: 'withdraw-1', data: text.encode('withdraw 30') }], { timestampMs: Date.now() });
leader.propose([{ id: 'deposit-1', data: text.encode('deposit 100') }], { timestampMs: Date.now() });
settle();
for (const replica of replicas) {
  const log = replica.fsm.entries.map((e) => `${e.offset}: ${new TextDecoder().decode(e.data)}`).join(', ');
  const s = replica.core.status();
  console.log(`replica ${replica.id}: committed instance ${s.committedInstance}, accepted instance ${s.acceptedInstanceMax}, log [${log}]`);
}

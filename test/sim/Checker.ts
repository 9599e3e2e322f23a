import { type Ballot, ballotCompare, ballotText } from '../../src/log/ballot.js';
import type { CommittedBatch, CommittedEntry, InstanceRecord, LearnerState } from '../../src/log/types.js';

export class Violation extends Error {
  override readonly name = 'Violation';
}

/**
 * The simulator's safety checks. They watch the cluster from outside the core: durable acceptor
 * writes (the ground truth of what is chosen), what each learner releases, what each state machine
 * applies, and what clients were told.
 */
export class Checker {
  /** Durable acceptances per (instance, ballot): when a quorum holds one, its value is chosen. */
  private readonly acceptances = new Map<string, { valueId: string; acceptors: Set<number> }>();
  private readonly chosenTruth = new Map<number, string>();
  private readonly releasedValue = new Map<number, string>();
  private readonly logByOffset: string[] = [];
  private readonly offsetById = new Map<string, number>();
  private readonly acked = new Map<string, number>();
  private readonly proposed = new Map<string, string>();
  private readonly promisedLast = new Map<number, { ballot: Ballot; life: number }>();
  private readonly promisedShown = new Map<number, Ballot>();
  /** Per replica: the highest round it sent an accept with, over all its disks. */
  private readonly acceptRoundMax = new Map<number, number>();
  /** Per replica: acceptRoundMax when its disk was last lost; its later ballots must be above it. */
  private readonly acceptRoundMaxLost = new Map<number, number>();
  /** The agreed offsetNext after each released instance, to check snapshots against. */
  private readonly offsetNextAfter = new Map<number, number>();

  readonly stats = { chosen: 0, released: 0, acked: 0 };

  constructor(private readonly quorum: number) {}

  /** A client submitted an entry with this id and payload. */
  proposedEntry(id: string, payload: string): void {
    this.proposed.set(id, payload);
  }

  /** An acceptor's record reached its disk. */
  durableRecord(replica: number, record: InstanceRecord): void {
    if (record.chosen) return;
    const key = `${record.instance}@${ballotText(record.ballot)}`;
    let acceptance = this.acceptances.get(key);
    if (acceptance === undefined) {
      acceptance = { valueId: record.value.valueId, acceptors: new Set() };
      this.acceptances.set(key, acceptance);
    }
    if (acceptance.valueId !== record.value.valueId) {
      throw new Violation(`ballot ${key} carried two values: ${acceptance.valueId} and ${record.value.valueId}`);
    }
    acceptance.acceptors.add(replica);
    if (acceptance.acceptors.size >= this.quorum) this.chosen(record.instance, record.value.valueId);
  }

  private chosen(instance: number, valueId: string): void {
    const known = this.chosenTruth.get(instance);
    if (known === undefined) {
      this.chosenTruth.set(instance, valueId);
      this.stats.chosen++;
    } else if (known !== valueId) {
      throw new Violation(`instance ${instance} chosen with two values: ${known} and ${valueId}`);
    }
    const released = this.releasedValue.get(instance);
    if (released !== undefined && released !== valueId) {
      throw new Violation(`instance ${instance} released as ${released} but chosen as ${valueId}`);
    }
  }

  /** A replica's learner released a batch. Releases must be contiguous and agree across replicas. */
  released(replica: number, batch: CommittedBatch, committedBefore: number): void {
    if (batch.instance !== committedBefore + 1) {
      throw new Violation(`replica ${replica} released instance ${batch.instance} after ${committedBefore}`);
    }
    const truth = this.chosenTruth.get(batch.instance);
    if (truth !== batch.valueId) {
      const what = truth === undefined ? 'no value is durable on a quorum yet' : `chosen was ${truth}`;
      throw new Violation(`replica ${replica} released ${batch.valueId} at ${batch.instance}, but ${what}`);
    }
    const other = this.releasedValue.get(batch.instance);
    const offsetNext = this.offsetNextAfter.get(batch.instance);
    if (offsetNext !== undefined && offsetNext !== batch.offsetNext) {
      throw new Violation(`replica ${replica} ends instance ${batch.instance} at offset ${batch.offsetNext}, others at ${offsetNext}`);
    }
    this.offsetNextAfter.set(batch.instance, batch.offsetNext);
    if (other === undefined) {
      this.releasedValue.set(batch.instance, batch.valueId);
      this.stats.released++;
    } else if (other !== batch.valueId) {
      throw new Violation(`instance ${batch.instance} released as ${other} and as ${batch.valueId}`);
    }
    for (const entry of batch.entries) this.appliedEntry(replica, entry.offset, entry.id, entry.data);
  }

  private appliedEntry(replica: number, offset: number, id: string | undefined, data: Uint8Array): void {
    if (id === undefined) throw new Violation(`replica ${replica} committed an entry without id at ${offset}`);
    const payload = this.proposed.get(id);
    if (payload === undefined || payload !== new TextDecoder().decode(data)) {
      throw new Violation(`replica ${replica} committed entry ${id} that no client proposed`);
    }
    const atOffset = this.logByOffset[offset];
    if (atOffset === undefined) {
      if (offset !== this.logByOffset.length) throw new Violation(`offset ${offset} committed before ${this.logByOffset.length}`);
      const earlier = this.offsetById.get(id);
      if (earlier !== undefined) throw new Violation(`entry ${id} committed twice: offsets ${earlier} and ${offset}`);
      this.logByOffset.push(id);
      this.offsetById.set(id, offset);
      const told = this.acked.get(id);
      if (told !== undefined && told !== offset) throw new Violation(`entry ${id} acknowledged at ${told}, committed at ${offset}`);
    } else if (atOffset !== id) {
      throw new Violation(`replica ${replica} has ${id} at offset ${offset}, others have ${atOffset}`);
    }
  }

  /**
   * A replica installs a snapshot: its committed instance, offsets and every entry must be the
   * agreed log's up to that instance (agreement across snapshots).
   */
  snapshotInstalled(replica: number, snapshot: { state: LearnerState; entries: readonly CommittedEntry[] }): void {
    const { committedInstance, offsetNext } = snapshot.state;
    const agreed = this.offsetNextAfter.get(committedInstance);
    if (committedInstance > 0 && agreed !== offsetNext) {
      throw new Violation(`replica ${replica} installs a snapshot at ${committedInstance} ending at offset ${offsetNext}, the agreed log at ${String(agreed)}`);
    }
    if (snapshot.entries.length !== offsetNext) throw new Violation(`replica ${replica} installs a snapshot holding ${snapshot.entries.length} entries for ${offsetNext} offsets`);
    snapshot.entries.forEach((entry, offset) => {
      if (entry.offset !== offset || this.logByOffset[offset] !== entry.id) {
        throw new Violation(`replica ${replica} installs a snapshot with ${String(entry.id)} at offset ${offset}, the agreed log has ${String(this.logByOffset[offset])}`);
      }
    });
  }

  /**
   * A replica sent a prepare or an accept with its own ballot. After a lost disk its rounds must
   * stay above every round an earlier disk sent accepts with: the rebuild rule guarantees it
   * (docs/ARCHITECTURE.md, "A new or wiped replica"), with or without the incarnation.
   */
  ballotUsed(replica: number, message: { type: 'prepare' | 'accept'; ballot: Ballot }): void {
    const { round } = message.ballot;
    const lost = this.acceptRoundMaxLost.get(replica) ?? 0;
    if (round <= lost) {
      throw new Violation(`replica ${replica} sent ${message.type} at ${ballotText(message.ballot)} after a lost disk that sent accepts at round ${lost}`);
    }
    if (message.type === 'accept') this.acceptRoundMax.set(replica, Math.max(round, this.acceptRoundMax.get(replica) ?? 0));
  }

  /** A replica's disk was lost: what it promised is gone with it (see Rebuild), so its promise may start lower. */
  wiped(replica: number): void {
    this.acceptRoundMaxLost.set(replica, this.acceptRoundMax.get(replica) ?? 0);
    this.promisedShown.delete(replica);
    this.promisedLast.delete(replica);
    // Its acceptances stay counted: a leader may already have counted them toward a quorum, and
    // the rebuild rule must keep such a value chosen although this disk forgot it.
  }

  /** A client was told its entry committed at `offset`. */
  acknowledged(id: string, offset: number): void {
    const earlier = this.acked.get(id);
    if (earlier !== undefined && earlier !== offset) throw new Violation(`entry ${id} acknowledged at ${earlier} and ${offset}`);
    this.acked.set(id, offset);
    if (earlier === undefined) this.stats.acked++;
    const committed = this.offsetById.get(id);
    if (committed !== undefined && committed !== offset) throw new Violation(`entry ${id} acknowledged at ${offset}, committed at ${committed}`);
  }

  /** A replica sent a message that reveals its promise: it must never promise less again. */
  promiseShown(replica: number, ballot: Ballot): void {
    const shown = this.promisedShown.get(replica);
    if (shown === undefined || ballotCompare(ballot, shown) > 0) this.promisedShown.set(replica, ballot);
  }

  /**
   * A replica's promised ballot after a step: it never decreases within one life, and across
   * restarts it never falls below any promise the replica ever revealed.
   */
  promised(replica: number, ballot: Ballot, life: number): void {
    const last = this.promisedLast.get(replica);
    if (last !== undefined && last.life === life && ballotCompare(ballot, last.ballot) < 0) {
      throw new Violation(`replica ${replica} promise went back from ${ballotText(last.ballot)} to ${ballotText(ballot)}`);
    }
    const shown = this.promisedShown.get(replica);
    if (shown !== undefined && ballotCompare(ballot, shown) < 0) {
      throw new Violation(`replica ${replica} promises ${ballotText(ballot)} after revealing a promise of ${ballotText(shown)}`);
    }
    this.promisedLast.set(replica, { ballot, life });
  }

  /** At the end: every acknowledged entry is in the log, once, where the client was told. */
  finish(): void {
    for (const [id, offset] of this.acked) {
      if (this.logByOffset[offset] !== id) throw new Violation(`acknowledged entry ${id} is not at offset ${offset}`);
    }
  }

  get committedEntries(): number {
    return this.logByOffset.length;
  }
}

import { LeaseAcceptor, type LeaseAcceptorOptions } from '../../src/election/LeaseAcceptor.js';
import { LeaseProposer, type LeaseProposerOptions } from '../../src/election/LeaseProposer.js';
import { PaxosLease } from '../../src/election/PaxosLease.js';
import { Acceptor, type AcceptorOptions } from '../../src/log/Acceptor.js';
import { type Ballot, ballotCompare } from '../../src/log/ballot.js';
import { Learner } from '../../src/log/Learner.js';
import { MultiPaxos } from '../../src/log/MultiPaxos.js';
import type { Ready } from '../../src/log/Effects.js';
import type { Rebuild } from '../../src/log/Rebuild.js';
import type { InstanceRecord, LearnerState } from '../../src/log/types.js';
import { Replica } from '../../src/replica/Replica.js';
import type { ReplicaFactory } from './SimReplica.js';

/**
 * Deliberately broken cores and elections. Each breaks one rule the design depends on; the
 * simulator must catch every one of them, which shows that its checks can fail.
 */

/** The acceptor promises in memory but never persists the promise. */
class PromiseNotPersisted extends Acceptor {
  protected override promise(ballot: Ballot): void {
    if (ballotCompare(ballot, this.promisedBallot) > 0) this.promisedBallot = ballot;
  }
}

/** The acceptor takes an accept whose ballot is below its promise. */
class AcceptBelowPromise extends Acceptor {
  protected override admitsAccept(): boolean {
    return true;
  }
}

/** The acceptor answers `accepted` but never writes the accepted record. */
class AcceptNotPersisted extends Acceptor {
  protected override persist(record: InstanceRecord): void {
    if (record.chosen) super.persist(record);
  }
}

/** The learner releases any chosen instance, not only the next one. */
class LearnerOutOfOrder extends Learner {
  protected override nextReleasable(): number | null {
    let lowest: number | null = null;
    for (const instance of this.chosen.keys()) if (lowest === null || instance < lowest) lowest = instance;
    return lowest;
  }
}

class PromiseNotPersistedCore extends MultiPaxos {
  protected override createAcceptor(options: AcceptorOptions): Acceptor {
    return new PromiseNotPersisted(options);
  }
}

class AcceptBelowPromiseCore extends MultiPaxos {
  protected override createAcceptor(options: AcceptorOptions): Acceptor {
    return new AcceptBelowPromise(options);
  }
}

class AcceptNotPersistedCore extends MultiPaxos {
  protected override createAcceptor(options: AcceptorOptions): Acceptor {
    return new AcceptNotPersisted(options);
  }
}

/** The core lets accepts go out after an unsynced write: only a promise is synced. */
class AcceptUnsyncedCore extends MultiPaxos {
  override ready(): Ready {
    const ready = super.ready();
    return { ...ready, mustSync: ready.hardState !== null };
  }
}

/** Every message leaves before the Ready's writes, votes included (see leavesEarly). */
class VotesLeaveEarlyCore extends MultiPaxos {
  override ready(): Ready {
    const ready = super.ready();
    return { ...ready, messages: [], messagesEarly: [...ready.messagesEarly, ...ready.messages] };
  }
}

/** A replica whose disk was lost votes at once, as if it had never promised or accepted anything. */
class RebuildVotesAtOnceCore extends MultiPaxos {
  protected override createRebuild(): Rebuild | null {
    return null;
  }
}

class LearnerOutOfOrderCore extends MultiPaxos {
  protected override createLearner(state: LearnerState, options: { dedupIdsMax: number }): Learner {
    return new LearnerOutOfOrder(state, options);
  }
}

/** A restarted lease acceptor answers at once instead of waiting out the maximum lease time. */
class NoRestartWait extends LeaseAcceptor {
  constructor(options: LeaseAcceptorOptions) {
    super(options);
    this.silentUntilTick = 0;
  }
}

/** Candidates retry at fixed times: no random back-off, and every replica starts at once. */
class NoBackoff extends LeaseProposer {
  protected override firstAttemptTick(): number {
    return 1;
  }

  protected override backoffTicks(): number {
    return 1;
  }
}

/** Renewal goes straight to Phase 2 with the ballot of the lease it holds. */
class RenewalSkipsPhase1 extends LeaseProposer {
  protected override renew(): void {
    if (this.holding === null) return;
    const round = this.roundCreate(this.holding.ballot);
    this.round = round;
    this.propose(round);
  }
}

function leaseCanary(parts: {
  acceptor?: (o: LeaseAcceptorOptions) => LeaseAcceptor;
  proposer?: (o: LeaseProposerOptions) => LeaseProposer;
}): ReplicaFactory {
  class Broken extends PaxosLease {
    protected override createAcceptor(o: LeaseAcceptorOptions): LeaseAcceptor {
      return parts.acceptor?.(o) ?? super.createAcceptor(o);
    }

    protected override createProposer(o: LeaseProposerOptions): LeaseProposer {
      return parts.proposer?.(o) ?? super.createProposer(o);
    }
  }
  return (options) => new Replica({ ...options, makeLease: (o) => new Broken(o) });
}

export type CanaryName =
  | 'promise-not-persisted'
  | 'accept-below-promise'
  | 'accept-not-persisted'
  | 'accept-unsynced'
  | 'votes-leave-early'
  | 'rebuild-votes-at-once'
  | 'learner-out-of-order'
  | 'no-restart-wait'
  | 'no-backoff'
  | 'renewal-skips-phase-1';

export const canaries: Record<CanaryName, ReplicaFactory> = {
  'promise-not-persisted': (options) => new Replica({ ...options, makePaxos: (o) => new PromiseNotPersistedCore(o) }),
  'accept-below-promise': (options) => new Replica({ ...options, makePaxos: (o) => new AcceptBelowPromiseCore(o) }),
  'accept-not-persisted': (options) => new Replica({ ...options, makePaxos: (o) => new AcceptNotPersistedCore(o) }),
  'accept-unsynced': (options) => new Replica({ ...options, makePaxos: (o) => new AcceptUnsyncedCore(o) }),
  'votes-leave-early': (options) => new Replica({ ...options, makePaxos: (o) => new VotesLeaveEarlyCore(o) }),
  'rebuild-votes-at-once': (options) => new Replica({ ...options, makePaxos: (o) => new RebuildVotesAtOnceCore(o) }),
  'learner-out-of-order': (options) => new Replica({ ...options, makePaxos: (o) => new LearnerOutOfOrderCore(o) }),
  'no-restart-wait': leaseCanary({ acceptor: (o) => new NoRestartWait(o) }),
  'no-backoff': leaseCanary({ proposer: (o) => new NoBackoff(o) }),
  'renewal-skips-phase-1': leaseCanary({ proposer: (o) => new RenewalSkipsPhase1(o) }),
};

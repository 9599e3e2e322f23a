import { Acceptor, type AcceptorOptions } from '../../src/log/Acceptor.js';
import { type Ballot, ballotCompare } from '../../src/log/ballot.js';
import { Learner } from '../../src/log/Learner.js';
import { MultiPaxos } from '../../src/log/MultiPaxos.js';
import type { LearnerState } from '../../src/log/types.js';
import type { CoreFactory } from './SimReplica.js';

/**
 * Deliberately broken cores. Each breaks one rule the design depends on; the simulator must catch
 * every one of them, which shows that its checks can fail.
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

class LearnerOutOfOrderCore extends MultiPaxos {
  protected override createLearner(state: LearnerState, options: { dedupIdsMax: number }): Learner {
    return new LearnerOutOfOrder(state, options);
  }
}

export type CanaryName = 'promise-not-persisted' | 'accept-below-promise' | 'learner-out-of-order';

export const canaries: Record<CanaryName, CoreFactory> = {
  'promise-not-persisted': (options) => new PromiseNotPersistedCore(options),
  'accept-below-promise': (options) => new AcceptBelowPromiseCore(options),
  'learner-out-of-order': (options) => new LearnerOutOfOrderCore(options),
};

import { assert } from './assert.js';

/**
 * Every bound of the Multi-Paxos core, named with its qualifier last. Durations are in ticks:
 * the driver decides how long a tick is (10 ms by default).
 */
export interface PaxosLimits {
  /** Instances in Phase 2 at once: the pipeline window. */
  readonly inflightInstancesMax: number;
  /** Proposals waiting for a slot in the window. */
  readonly proposalsQueuedMax: number;
  readonly batchEntriesMax: number;
  readonly batchBytesMax: number;
  /**
   * Bytes of new client batches one Ready starts in Phase 2 (at least one batch). Under overload
   * the window fills with several MB at once; encoding, sending and writing it held the loop
   * (lease messages included) for 0.3–0.5 s. The rest start in the next Readys.
   */
  readonly readyAcceptBytesMax: number;
  /** Records in one promise page, and their bytes (a page holds at least one record). */
  readonly promiseRecordsMax: number;
  readonly promiseBytesMax: number;
  /** Values in one fetched reply, and their bytes. */
  readonly fetchInstancesMax: number;
  readonly fetchBytesMax: number;
  /** Instances in one commit notice. */
  readonly commitNoticeInstancesMax: number;
  /**
   * Ticks a commit notice may wait for an accept to ride with (in the same Ready, so in the same
   * NATS message to each peer), at most: 0 sends it in the Ready that chose its instances. While
   * appends keep coming, followers then learn commits with the next accept, in the same wake-up
   * and the same write, instead of in one of their own. Followers learn later by up to this long
   * (the leader answers its clients as soon as an instance is chosen either way).
   */
  readonly commitNoticeDelayTicks: number;
  /** An acceptor ignores accepts this far beyond its committed instance; it catches up first. */
  readonly acceptAheadInstancesMax: number;
  /**
   * A replica with nothing committed that is this many instances behind a peer joins by snapshot,
   * then fetches the tail, instead of fetching the whole log.
   */
  readonly snapshotJoinInstancesMin: number;
  /** Client ids remembered for deduplication. */
  readonly dedupIdsMax: number;
  readonly heartbeatTicks: number;
  /** An accept still short of a quorum is sent again after acceptRetryTicks, then twice as long each time, up to acceptRetryTicksMax. */
  readonly acceptRetryTicks: number;
  readonly acceptRetryTicksMax: number;
  /**
   * The tail publisher changes when the leader has not heard from it for this long (and has from
   * another follower). A busy follower can be silent for a few hundred ms, and each change lets the
   * two publishers' messages interleave for a moment, so the default is a second (100 ticks).
   */
  readonly tailPublisherSilenceTicks: number;
  readonly prepareRetryTicks: number;
  /** A Phase 1 that has no quorum by then is abandoned. */
  readonly prepareTicksMax: number;
  readonly fetchRetryTicks: number;
  /** A follower that hears no leader for this long (plus a random part) campaigns itself. */
  readonly leaderSilenceTicksMin: number;
  /** Random back-off after a rejection, so dueling proposers separate. */
  readonly backoffTicksMax: number;
}

export const paxosLimitsDefault: PaxosLimits = Object.freeze({
  inflightInstancesMax: 32,
  proposalsQueuedMax: 1024,
  batchEntriesMax: 4096,
  batchBytesMax: 256 << 10,
  readyAcceptBytesMax: 1 << 20,
  promiseRecordsMax: 64,
  promiseBytesMax: 512 << 10,
  fetchInstancesMax: 64,
  fetchBytesMax: 512 << 10,
  commitNoticeInstancesMax: 256,
  commitNoticeDelayTicks: 0,
  acceptAheadInstancesMax: 4096,
  snapshotJoinInstancesMin: 256,
  dedupIdsMax: 100_000,
  heartbeatTicks: 5,
  acceptRetryTicks: 10,
  acceptRetryTicksMax: 80,
  tailPublisherSilenceTicks: 100,
  prepareRetryTicks: 10,
  prepareTicksMax: 40,
  fetchRetryTicks: 10,
  leaderSilenceTicksMin: 30,
  backoffTicksMax: 30,
});

export function paxosLimitsCheck(limits: PaxosLimits): PaxosLimits {
  for (const [name, value] of Object.entries(limits)) {
    const valueMin = name === 'commitNoticeDelayTicks' ? 0 : 1;
    assert(Number.isSafeInteger(value) && value >= valueMin, `limit ${name} must be an integer of at least ${valueMin}, got ${value}`);
  }
  assert(limits.commitNoticeDelayTicks < limits.heartbeatTicks, 'commitNoticeDelayTicks >= heartbeatTicks');
  assert(limits.promiseRecordsMax >= limits.inflightInstancesMax, 'promiseRecordsMax < inflightInstancesMax');
  assert(limits.promiseBytesMax >= limits.batchBytesMax && limits.fetchBytesMax >= limits.batchBytesMax, 'a page must hold one batch');
  assert(limits.commitNoticeInstancesMax >= limits.inflightInstancesMax, 'commitNoticeInstancesMax < window');
  assert(limits.acceptAheadInstancesMax >= limits.inflightInstancesMax, 'acceptAheadInstancesMax < window');
  assert(limits.acceptRetryTicksMax >= limits.acceptRetryTicks, 'acceptRetryTicksMax < acceptRetryTicks');
  assert(limits.readyAcceptBytesMax >= limits.batchBytesMax, 'readyAcceptBytesMax < batchBytesMax');
  return limits;
}

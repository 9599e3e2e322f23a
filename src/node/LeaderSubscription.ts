import type { Msg, NatsConnection, Subscription } from '@nats-io/transport-node';

/**
 * A subscription that exists only while this replica serves as leader, in the log's leader queue
 * group, so a request on the subject reaches the leader (or, during an election, nobody).
 */
export class LeaderSubscription {
  private subscription: Subscription | null = null;

  constructor(
    private readonly options: { nc: NatsConnection; subject: string; log: string; onMessage: (msg: Msg) => void },
  ) {}

  /** Whether this replica serves now: the last set() was true. */
  get serving(): boolean {
    return this.subscription !== null;
  }

  set(serving: boolean): void {
    if (serving && this.subscription === null) {
      this.subscription = this.options.nc.subscribe(this.options.subject, {
        queue: `paxlog.${this.options.log}.leader`,
        callback: (error, msg) => {
          if (error === null) this.options.onMessage(msg);
        },
      });
    } else if (!serving && this.subscription !== null) {
      // Drained, not unsubscribed: requests already on their way still reach the callback and are
      // answered (not-leader, so the client asks again at once) rather than dropped unanswered,
      // to time out at their clients. A burst caught by a lost lease left 1,100 of 1,500 so.
      void this.subscription.drain().catch(() => undefined);
      this.subscription = null;
    }
  }
}

import { createInbox, type Msg, type NatsConnection, type Subscription } from '@nats-io/transport-node';

/** How often the deadlines of requests in flight are checked: a timeout fires at most this late. */
const sweepEveryMs = 25;
/** Requests one client keeps in flight at most; past that, request() refuses at once. */
export const requestsInflightMax = 65_536;

/** A request that got no reply in time, or that nobody subscribes to. */
export class RequestFailure extends Error {
  override readonly name = 'RequestFailure';

  constructor(readonly reason: 'timeout' | 'no-responders' | 'closed' | 'overloaded') {
    super(reason === 'no-responders' ? 'no responders' : reason);
  }
}

interface Pending {
  readonly resolve: (msg: Msg) => void;
  readonly reject: (error: RequestFailure) => void;
  readonly deadlineMs: number;
}

/**
 * Request/reply over one wildcard inbox subscription, with one timer for every deadline. nats.js's
 * own request() builds two Error objects (with stack traces) and a timer per request; at hundreds
 * of appends in flight that was half of the client's CPU. Replies are matched by token; a reply
 * nobody waits for any more (it came after its timeout) is dropped. The server's "no responders"
 * status (503) rejects at once.
 */
export class RequestMux {
  private readonly prefix: string;
  private readonly pending = new Map<string, Pending>();
  private readonly subscription: Subscription;
  private sweeper: ReturnType<typeof setInterval> | null = null;
  private tokenNext = 0;
  private closedNow = false;

  constructor(private readonly nc: NatsConnection) {
    this.prefix = createInbox();
    this.subscription = nc.subscribe(`${this.prefix}.*`, { callback: (error, msg) => this.onReply(error, msg) });
  }

  /** Closed by close(), or with its connection. */
  get isClosed(): boolean {
    return this.closedNow || this.nc.isClosed();
  }

  request(subject: string, body: Uint8Array, options: { timeoutMs: number }): Promise<Msg> {
    if (this.isClosed) return Promise.reject(new RequestFailure('closed'));
    if (this.pending.size >= requestsInflightMax) return Promise.reject(new RequestFailure('overloaded'));
    const token = (this.tokenNext++).toString(36);
    return new Promise<Msg>((resolve, reject) => {
      this.pending.set(token, { resolve, reject, deadlineMs: Date.now() + options.timeoutMs });
      this.sweeper ??= setInterval(() => this.sweep(), sweepEveryMs);
      try {
        this.nc.publish(subject, body, { reply: `${this.prefix}.${token}` });
      } catch (error) {
        this.pending.delete(token);
        reject(error);
      }
    });
  }

  private onReply(error: Error | null, msg: Msg): void {
    if (error !== null) return;
    const token = msg.subject.slice(this.prefix.length + 1);
    const waiting = this.pending.get(token);
    if (waiting === undefined) return;
    this.pending.delete(token);
    if (msg.data.byteLength === 0 && msg.headers?.code === 503) waiting.reject(new RequestFailure('no-responders'));
    else waiting.resolve(msg);
  }

  private sweep(): void {
    const now = Date.now();
    for (const [token, waiting] of this.pending) {
      if (waiting.deadlineMs > now) continue;
      this.pending.delete(token);
      waiting.reject(new RequestFailure('timeout'));
    }
    if (this.pending.size === 0 && this.sweeper !== null) {
      clearInterval(this.sweeper);
      this.sweeper = null;
    }
  }

  /** Fails whatever is in flight and stops listening. */
  close(): void {
    if (this.closedNow) return;
    this.closedNow = true;
    if (this.sweeper !== null) clearInterval(this.sweeper);
    this.sweeper = null;
    for (const waiting of this.pending.values()) waiting.reject(new RequestFailure('closed'));
    this.pending.clear();
    this.subscription.unsubscribe();
  }
}

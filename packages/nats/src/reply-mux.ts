import { createInbox, type Msg, type MsgHdrs, type NatsConnection, type Subscription } from '@nats-io/transport-node';

interface Waiting {
  readonly resolve: (msg: Msg) => void;
  readonly reject: (error: Error) => void;
  readonly deadline: number;
}

export class RequestTimeoutError extends Error {
  constructor(subject: string, ms: number) {
    super(`no reply on ${subject} within ${ms} ms (timeout)`);
    this.name = 'TimeoutError';
  }
}

/**
 * Request/reply for the publish hot path: one wildcard reply subscription and one sweeping
 * timer for all requests, instead of a timer per request as the client's `request` keeps.
 */
export class ReplyMux {
  private readonly prefix = createInbox();
  private readonly waiting = new Map<string, Waiting>();
  private readonly sub: Subscription;
  private readonly sweeper: ReturnType<typeof setInterval>;
  private next = 0;

  constructor(
    private readonly nc: NatsConnection,
    private readonly timeoutMs: number,
  ) {
    this.sub = nc.subscribe(`${this.prefix}.*`, { callback: (_error, msg) => this.reply(msg) });
    this.sweeper = setInterval(() => this.sweep(), Math.min(250, Math.max(20, timeoutMs / 4)));
    this.sweeper.unref?.();
  }

  /** The server's max_payload (headers and data together), once connected. */
  maxPayload(): number | undefined {
    return this.nc.info?.max_payload;
  }

  request(subject: string, data: Uint8Array, headers?: MsgHdrs): Promise<Msg> {
    const token = (this.next++).toString(36);
    return new Promise<Msg>((resolve, reject) => {
      this.waiting.set(token, { resolve, reject, deadline: Date.now() + this.timeoutMs });
      try {
        this.nc.publish(subject, data, { reply: `${this.prefix}.${token}`, ...(headers ? { headers } : {}) });
      } catch (error) {
        this.waiting.delete(token);
        reject(error as Error);
      }
    });
  }

  close(): void {
    clearInterval(this.sweeper);
    this.sub.unsubscribe();
    for (const w of this.waiting.values()) w.reject(new Error('connection closed before a reply came'));
    this.waiting.clear();
  }

  private reply(msg: Msg): void {
    const token = msg.subject.slice(this.prefix.length + 1);
    const w = this.waiting.get(token);
    if (!w) return;
    this.waiting.delete(token);
    if (msg.data.length === 0 && msg.headers?.code === 503) {
      const error = new Error('no responders: no stream takes this subject (503)');
      error.name = 'NoRespondersError';
      w.reject(error);
    } else {
      w.resolve(msg);
    }
  }

  private sweep(): void {
    const now = Date.now();
    for (const [token, w] of this.waiting) {
      if (w.deadline > now) continue;
      this.waiting.delete(token);
      w.reject(new RequestTimeoutError('a JetStream subject', this.timeoutMs));
    }
  }
}

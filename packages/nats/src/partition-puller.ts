import { WakeSignal } from '@concord/core/spi';
import { createInbox, type Msg, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import { nanos } from './streams.js';

/** One message as JetStream delivered it to a pull request. */
export interface PulledMessage {
  readonly streamSequence: number;
  /** The consumer's delivery counter: +1 per delivery, redeliveries included. */
  readonly deliverySequence: number;
  readonly deliveries: number;
  /** Where `+ACK`, `+WPI` and `-NAK` go. */
  readonly ackSubject: string;
  readonly data: Uint8Array;
}

/**
 * Reads the delivery metadata JetStream puts in the reply subject:
 * `$JS.ACK.<stream>.<consumer>.<deliveries>.<sseq>.<dseq>.<ts>.<pending>` or, with a domain
 * and account hash, `$JS.ACK.<domain>.<hash>.<stream>.<consumer>.<deliveries>.<sseq>.<dseq>...`.
 */
export function parseAckSubject(reply: string): Omit<PulledMessage, 'data' | 'ackSubject'> | undefined {
  const t = reply.split('.');
  if (t[0] !== '$JS' || t[1] !== 'ACK') return undefined;
  const base = t.length === 9 ? 4 : t.length >= 11 ? 6 : -1;
  if (base < 0) return undefined;
  const deliveries = Number(t[base]);
  const streamSequence = Number(t[base + 1]);
  const deliverySequence = Number(t[base + 2]);
  if (![deliveries, streamSequence, deliverySequence].every(Number.isSafeInteger)) return undefined;
  return { deliveries, streamSequence, deliverySequence };
}

/**
 * Pulls from one durable consumer into a buffer with one request outstanding at a time, so the
 * next batch arrives while the handler works on the current one. It speaks the pull protocol
 * itself (instead of the client's `fetch`) to hand over whatever has arrived at once rather
 * than waiting for a full batch, and to keep one inbox per consumer incarnation.
 */
export class PartitionPuller {
  private readonly inbox = createInbox();
  private readonly buffer: PulledMessage[] = [];
  private readonly arrived = new WakeSignal();
  private sub: Subscription | undefined;
  private open: { remaining: number; deadline: number } | undefined;
  private expiry: ReturnType<typeof setTimeout> | undefined;
  private stopped = false;
  /** Set when the server says this consumer cannot serve us (deleted, missing, misconfigured). */
  problem: string | undefined;

  constructor(
    private readonly nc: NatsConnection,
    private readonly stream: string,
    private readonly consumer: string,
    private readonly batch: number,
    private readonly expiresMs: number,
  ) {}

  start(): void {
    this.sub = this.nc.subscribe(this.inbox, { callback: (error, msg) => (error ? this.fail(error.message) : this.receive(msg)) });
    this.pull();
  }

  /** Up to `max` buffered messages, waiting up to `waitMs` for the first one. */
  async take(max: number, waitMs: number, signal: AbortSignal): Promise<PulledMessage[]> {
    if (this.buffer.length === 0 && !this.problem) {
      this.pull();
      await this.arrived.wait(waitMs, signal);
    }
    const taken = this.buffer.splice(0, max);
    this.pull();
    return taken;
  }

  /** Messages received and not yet taken (pulled ahead while the handler works). */
  buffered(): readonly PulledMessage[] {
    return this.buffer;
  }

  /** A reconnect loses pull requests on a restarted server: ask again instead of waiting them out. */
  requestAgain(): void {
    this.open = undefined;
    this.pull();
  }

  /** Stops asking and lets messages already on their way land (they stay unacknowledged). */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.expiry);
    this.arrived.wake();
    await this.sub?.drain().catch(() => this.sub?.unsubscribe());
  }

  private pull(): void {
    if (this.stopped || this.problem || this.nc.isClosed()) return;
    if (this.open && Date.now() > this.open.deadline) this.open = undefined; // lost with a restarted server
    if (this.open || this.buffer.length >= this.batch) return;
    const request = (this.open = { remaining: this.batch, deadline: Date.now() + this.expiresMs + 2_000 });
    // JetStream ends an expired request with a 408, but not always: seen under load, a partly
    // served request ended without one, and its partition then waited for the deadline above
    // (a 3 s stall of every saga whose command went there). Past its expiry it is over anyway.
    clearTimeout(this.expiry);
    this.expiry = setTimeout(() => {
      if (this.open !== request) return;
      this.open = undefined;
      this.pull();
    }, this.expiresMs + 100);
    try {
      this.nc.publish(
        `$JS.API.CONSUMER.MSG.NEXT.${this.stream}.${this.consumer}`,
        JSON.stringify({ batch: this.batch, expires: nanos(this.expiresMs) }),
        { reply: this.inbox },
      );
    } catch (error) {
      this.open = undefined;
      this.fail(`pull request not sent: ${(error as Error).message}`);
    }
  }

  private receive(msg: Msg): void {
    if (msg.subject === this.inbox) return this.status(msg);
    const meta = parseAckSubject(msg.reply ?? '');
    if (!meta) return;
    this.buffer.push({ ...meta, ackSubject: msg.reply!, data: msg.data });
    if (this.open && --this.open.remaining <= 0) this.open = undefined;
    this.arrived.wake();
  }

  private status(msg: Msg): void {
    const code = msg.headers?.code ?? 0;
    const description = msg.headers?.description ?? '';
    if (code === 100) return; // idle heartbeat
    this.open = undefined;
    if (code === 404 || code === 408 || (code === 409 && /leadership/i.test(description))) {
      this.pull();
      return;
    }
    this.fail(`${code} ${description}`.trim());
  }

  private fail(problem: string): void {
    this.problem ??= problem;
    this.arrived.wake();
  }
}

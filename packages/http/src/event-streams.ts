import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpError } from './http-error.js';

/** Bounds on server-sent event streams; each default is deliberate. */
export interface EventStreamLimits {
  /** Streams open at once in this process (503 above). Default 2000. */
  readonly maxStreams?: number;
  /**
   * Streams open at once per client address (429 above). Default 500: generous, because a
   * script awaiting hundreds of orders at once is a legitimate client, yet a bound.
   */
  readonly maxStreamsPerClient?: number;
  /** Close a stream that sent no event for this long (EventSource reconnects). Default 5 min. */
  readonly idleTimeoutMs?: number;
  /** Close any stream after this long, however busy. Default 30 min. */
  readonly maxDurationMs?: number;
  /** A comment line this often keeps proxies from closing a quiet stream. Default 15 s. */
  readonly heartbeatMs?: number;
  /** A client that does not read: close once this much is waiting to be sent. Default 1 MiB. */
  readonly maxBufferedBytes?: number;
  /**
   * The client a request counts against. Default: the socket's address. Behind a gateway on
   * loopback, pass one that trusts its `x-forwarded-for` (see `forwardedClient`).
   */
  readonly clientKey?: (req: IncomingMessage) => string;
}

/** The client address a loopback gateway forwarded, else the socket's own. */
export function forwardedClient(req: IncomingMessage): string {
  const socket = req.socket.remoteAddress ?? 'unknown';
  const forwarded = req.headers['x-forwarded-for'];
  const loopback = socket === '127.0.0.1' || socket === '::1' || socket === '::ffff:127.0.0.1';
  return loopback && typeof forwarded === 'string' && forwarded !== '' ? forwarded.split(',').at(-1)!.trim() : socket;
}

/** One open stream. Closed exactly once, on every path: client gone, idle, too old, too slow, shutdown. */
export class EventStream {
  private closeHandlers: Array<() => void> = [];
  private started_ = false;
  private closedFlag = false;
  lastWriteAt = Date.now();
  lastEventAt = Date.now();
  readonly openedAt = Date.now();

  constructor(
    readonly res: ServerResponse,
    readonly client: string,
    private readonly release: (stream: EventStream) => void,
    private readonly maxBufferedBytes: number,
  ) {}

  get closed(): boolean {
    return this.closedFlag;
  }

  /** True once the 200 and headers are written. */
  get started(): boolean {
    return this.started_;
  }

  /** Closes from outside the handler (timeout, shutdown): a stream not yet started has its connection dropped. */
  terminate(): void {
    this.close();
    if (!this.started_ && !this.res.headersSent) this.res.destroy();
  }

  /** Writes the 200 and the event-stream headers; until then an error can still be a JSON answer. */
  start(): void {
    if (this.started_ || this.closedFlag) return;
    this.started_ = true;
    // No `connection` header: HTTP/1.1 keeps the connection by default, and a client's
    // `Connection: close` must still close it when the stream ends.
    this.res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
    this.res.flushHeaders();
  }

  /** Sends one event (`data` as JSON); false when the stream is closed. */
  send(event: string, data: unknown, id?: string | number): boolean {
    if (this.closedFlag) return false;
    this.start();
    const now = Date.now();
    this.lastEventAt = now;
    return this.write(`${id === undefined ? '' : `id: ${id}\n`}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`, now);
  }

  /** A comment line: keeps the connection visibly alive without an event. */
  heartbeat(now = Date.now()): void {
    if (this.started_ && !this.closedFlag) this.write(': keep-alive\n\n', now);
  }

  private write(text: string, now: number): boolean {
    this.lastWriteAt = now;
    this.res.write(text);
    if (this.res.writableLength > this.maxBufferedBytes) {
      this.res.destroy();
      this.close();
      return false;
    }
    return true;
  }

  /** Runs `handler` once the stream closes (at once if it already has). */
  onClose(handler: () => void): void {
    if (this.closedFlag) handler();
    else this.closeHandlers.push(handler);
  }

  /** Ends the stream (idempotent) and releases its slot. */
  close(): void {
    if (this.closedFlag) return;
    this.closedFlag = true;
    this.release(this);
    if (this.started_ && !this.res.destroyed) this.res.end();
    const handlers = this.closeHandlers;
    this.closeHandlers = [];
    for (const h of handlers) h();
  }
}

/**
 * Every server-sent event stream of a server: admission (per client and in total), one shared
 * timer for heartbeats and idle/absolute timeouts (running only while streams are open), a
 * count to watch, and `closeAll` for shutdown.
 */
export class EventStreams {
  private readonly streams = new Set<EventStream>();
  private readonly perClient = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private readonly limits: Required<Omit<EventStreamLimits, 'clientKey'>> & Pick<EventStreamLimits, 'clientKey'>;
  private refusing = false;

  constructor(limits: EventStreamLimits = {}) {
    this.limits = {
      maxStreams: limits.maxStreams ?? 2000,
      maxStreamsPerClient: limits.maxStreamsPerClient ?? 500,
      idleTimeoutMs: limits.idleTimeoutMs ?? 5 * 60_000,
      maxDurationMs: limits.maxDurationMs ?? 30 * 60_000,
      heartbeatMs: limits.heartbeatMs ?? 15_000,
      maxBufferedBytes: limits.maxBufferedBytes ?? 1 << 20,
      clientKey: limits.clientKey,
    };
  }

  /** Streams open now. */
  get active(): number {
    return this.streams.size;
  }

  /**
   * Admits a stream for this request or throws 429 (this client has too many) / 503 (the server
   * has too many, or is shutting down). Call before any await, so a client that leaves while
   * the handler reads its first state is noticed: the stream is then closed at once.
   */
  open(req: IncomingMessage, res: ServerResponse): EventStream {
    if (this.refusing) throw new HttpError(503, 'SHUTTING_DOWN', 'the server is shutting down');
    const client = (this.limits.clientKey ?? ((r: IncomingMessage) => r.socket.remoteAddress ?? 'unknown'))(req);
    if (this.streams.size >= this.limits.maxStreams) {
      throw new HttpError(503, 'TOO_MANY_STREAMS', `the server holds its maximum of ${this.limits.maxStreams} event streams; retry later`);
    }
    const mine = this.perClient.get(client) ?? 0;
    if (mine >= this.limits.maxStreamsPerClient) {
      throw new HttpError(429, 'TOO_MANY_STREAMS', `at most ${this.limits.maxStreamsPerClient} event streams per client`);
    }
    const stream = new EventStream(res, client, (s) => this.release(s), this.limits.maxBufferedBytes);
    this.streams.add(stream);
    this.perClient.set(client, mine + 1);
    this.timer ??= setInterval(() => this.tick(), Math.min(1_000, this.limits.heartbeatMs));
    if (res.destroyed || req.socket.destroyed) stream.close();
    else res.once('close', () => stream.close());
    return stream;
  }

  /** Ends every stream; with `refuse`, new ones get 503 (shutdown). */
  closeAll(refuse = false): void {
    this.refusing ||= refuse;
    for (const s of [...this.streams]) s.terminate();
  }

  private release(stream: EventStream): void {
    if (!this.streams.delete(stream)) return;
    const n = (this.perClient.get(stream.client) ?? 1) - 1;
    if (n > 0) this.perClient.set(stream.client, n);
    else this.perClient.delete(stream.client);
    if (this.streams.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  private tick(): void {
    const now = Date.now();
    const { idleTimeoutMs, maxDurationMs, heartbeatMs } = this.limits;
    for (const s of [...this.streams]) {
      if (now - s.lastEventAt >= idleTimeoutMs || now - s.openedAt >= maxDurationMs) s.terminate();
      else if (now - s.lastWriteAt >= heartbeatMs) s.heartbeat(now);
    }
  }
}

import type { Logger } from '@concord/core';
import { isConnectionError } from './postgres-errors.js';
import type { PostgresNotification, PostgresPool, PostgresPoolClient } from './postgres-pool.js';
import { quoteIdent } from './postgres-dialect.js';

/**
 * One dedicated connection that LISTENs on every channel the process cares about. When the
 * connection drops (server restart, network), it reconnects with backoff, LISTENs again and
 * wakes every listener once, since notifications sent while it was away are lost.
 */
export class PostgresListener<C extends PostgresPoolClient> {
  private readonly channels = new Map<string, Set<() => void>>();
  private client: C | undefined;
  private connecting: Promise<void> | undefined;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private failures = 0;
  private listened = new Set<string>();
  private readonly errorHandlers = new WeakMap<C, (error: Error) => void>();
  private closed = false;

  constructor(
    private readonly pool: PostgresPool<C>,
    private readonly logger: Logger,
  ) {}

  async listen(channel: string, listener: () => void): Promise<() => Promise<void>> {
    let set = this.channels.get(channel);
    const isNew = !set;
    if (!set) this.channels.set(channel, (set = new Set()));
    set.add(listener);
    if (!this.client) await this.connect();
    else if (isNew && !this.listened.has(channel)) {
      const client = this.client;
      await client.query({ text: `LISTEN ${quoteIdent(channel)}` }).then(
        () => this.client === client && this.listened.add(channel),
        (e: unknown) => this.lost(e),
      );
    }
    return async () => {
      set.delete(listener);
      if (set.size > 0) return;
      this.channels.delete(channel);
      if (this.channels.size === 0) return this.disconnect();
      this.listened.delete(channel);
      await this.client?.query({ text: `UNLISTEN ${quoteIdent(channel)}` }).catch(() => undefined);
    };
  }

  private connect(): Promise<void> {
    this.connecting ??= this.doConnect().finally(() => (this.connecting = undefined));
    return this.connecting;
  }

  /**
   * Backend PIDs of this driver's own NOTIFY sessions: their notifications were already
   * delivered in-process at commit, so a second wake-up would only cost a round of polls.
   */
  readonly ownSessions = new Set<number>();

  private readonly onNotification = (message: PostgresNotification) => {
    if (message.processId !== undefined && this.ownSessions.has(message.processId)) return;
    for (const listener of this.channels.get(message.channel) ?? []) listener();
  };

  private async doConnect(): Promise<void> {
    if (this.closed || this.client || this.channels.size === 0) return;
    let client: C | undefined;
    try {
      client = await this.pool.connect();
      const connected = client;
      const onError = (error: Error) => {
        if (this.client === connected) this.lost(error);
      };
      this.errorHandlers.set(client, onError);
      client.on('error', onError);
      client.on('notification', this.onNotification);
      // Channels may be added while we await: LISTEN until none is missing, then publish the client.
      const listened = new Set<string>();
      for (let missing = [...this.channels.keys()]; missing.length > 0; missing = [...this.channels.keys()].filter((c) => !listened.has(c))) {
        for (const channel of missing) {
          await client.query({ text: `LISTEN ${quoteIdent(channel)}` });
          listened.add(channel);
        }
      }
      this.listened = listened;
      if (this.closed) {
        this.release(client);
        return;
      }
      this.client = client;
      if (this.failures > 0) this.logger.info({ channels: [...this.channels.keys()] }, 'LISTEN connection restored');
      this.failures = 0;
      // Anything sent while we were away was lost: let every listener look for work once.
      for (const set of this.channels.values()) for (const listener of set) listener();
    } catch (error) {
      if (client) this.release(client, error);
      this.scheduleRetry(error);
    }
  }

  private lost(error: unknown): void {
    const client = this.client;
    if (!client) return;
    this.client = undefined;
    this.release(client, error);
    if (!this.closed) this.scheduleRetry(error);
  }

  private scheduleRetry(error: unknown): void {
    if (this.closed || this.retryTimer) return;
    this.failures++;
    const delay = Math.min(5_000, 50 * 2 ** Math.min(this.failures, 7));
    const log = this.failures === 1 || !isConnectionError(error) ? 'warn' : 'debug';
    this.logger[log]({ err: error, retryInMs: delay }, 'LISTEN connection lost; reconnecting');
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.connect().catch((error: unknown) => this.logger.warn({ err: error }, 'LISTEN reconnect failed'));
    }, delay);
    this.retryTimer.unref?.();
  }

  private release(client: C, error?: unknown): void {
    client.removeListener('notification', this.onNotification);
    // A destroyed client may still emit late socket errors: it keeps our listener, since an
    // unhandled 'error' would crash the process. A healthy one goes back to the pool clean.
    const onError = this.errorHandlers.get(client);
    if (onError && error === undefined) client.removeListener('error', onError);
    try {
      client.release(error instanceof Error ? error : error === undefined ? undefined : true);
    } catch {
      // released twice after a racing error: nothing left to do
    }
  }

  private async disconnect(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (client) {
      await client.query({ text: 'UNLISTEN *' }).catch(() => undefined);
      this.release(client);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retryTimer);
    await this.connecting;
    await this.disconnect();
  }
}

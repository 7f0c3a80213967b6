import { hostname } from 'node:os';
import type { Logger } from '@concord/core';
import { connect } from 'amqplib';
import type { AmqpChannel, AmqpConfirmChannel, AmqpConnectedModel, AmqpConnection } from './amqp-client.js';
import { RabbitUnavailableError } from './rabbit-errors.js';
import type { RabbitBrokerSettings } from './rabbit-options.js';

/**
 * One AMQP connection that comes back by itself (amqplib's recovery): channels asked for
 * while it is down are handed out once it is up again. Everything built on a channel must
 * watch the channel's `close` and rebuild, since a reconnection brings new channels only.
 */
export class RabbitConnection {
  private version: string | undefined;
  private closed = false;

  private constructor(
    private readonly amqp: AmqpConnection,
    private readonly logger: Logger,
  ) {}

  static async open(url: string, settings: RabbitBrokerSettings): Promise<RabbitConnection> {
    const target = new URL(url);
    if (!target.searchParams.has('heartbeat')) target.searchParams.set('heartbeat', String(settings.heartbeatSeconds));
    const logger = settings.logger.child({ component: 'rabbitmq-connection' });
    const amqp = (await connect(target.toString(), {
      clientProperties: { connection_name: `concord@${hostname()}:${process.pid}` },
      recovery: {
        initialDelay: 100,
        maxDelay: settings.maxReconnectDelayMs,
        initialMaxRetries: settings.connectAttempts - 1,
        // Listeners go on before the first attempt, so the first `connect` is seen too.
        waitForConnect: false,
      },
    })) as unknown as AmqpConnection;
    const connection = new RabbitConnection(amqp, logger);
    amqp.on('connect', (model: AmqpConnectedModel) => {
      connection.version = model.connection.serverProperties.version;
      logger.info({ server: connection.version }, 'connected to rabbitmq');
    });
    amqp.on('disconnect', (err: Error) => logger.warn({ err }, 'rabbitmq connection lost; reconnecting'));
    amqp.on('reconnect-failed', (err: Error) => logger.error({ err }, 'rabbitmq reconnection abandoned'));
    amqp.on('blocked', (reason: string) => logger.warn({ reason }, 'rabbitmq blocked publishing (resource alarm)'));
    amqp.on('unblocked', () => logger.info({}, 'rabbitmq unblocked publishing'));
    // Without a listener an 'error' event would be thrown; losses are handled by recovery.
    amqp.on('error', (err: Error) => logger.debug({ err }, 'rabbitmq connection error'));
    try {
      await amqp.waitForConnect();
    } catch (error) {
      await amqp.close().catch(() => undefined);
      throw new RabbitUnavailableError(`connect to ${target.host}`, error);
    }
    return connection;
  }

  /** The server's version, e.g. `3.10.8` (known once connected). */
  get serverVersion(): string | undefined {
    return this.version;
  }

  /** RabbitMQ 4 drops a quorum queue message after 20 returns unless told otherwise. */
  get serverMajor(): number {
    return Number.parseInt(this.version ?? '3', 10) || 3;
  }

  createChannel(timeoutMs: number): Promise<AmqpChannel> {
    return this.withTimeout(() => this.amqp.createChannel(), timeoutMs);
  }

  createConfirmChannel(timeoutMs: number): Promise<AmqpConfirmChannel> {
    return this.withTimeout(() => this.amqp.createConfirmChannel(), timeoutMs);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.amqp.close().catch((err: unknown) => this.logger.debug({ err }, 'closing rabbitmq connection failed'));
  }

  get isClosed(): boolean {
    return this.closed;
  }

  private withTimeout<C extends AmqpChannel>(open: () => Promise<C>, timeoutMs: number): Promise<C> {
    if (this.closed) return Promise.reject(new RabbitUnavailableError('open a channel', new Error('broker closed')));
    return new Promise<C>((resolve, reject) => {
      let settled = false;
      const timer = setTimeout(() => {
        settled = true;
        reject(new RabbitUnavailableError('open a channel', new Error(`no connection within ${timeoutMs} ms`)));
      }, timeoutMs);
      open().then(
        (channel) => {
          clearTimeout(timer);
          watchChannel(channel, this.logger);
          if (settled) void channel.close().catch(() => undefined);
          else resolve(channel);
        },
        (error: unknown) => {
          clearTimeout(timer);
          if (!settled) reject(new RabbitUnavailableError('open a channel', error));
        },
      );
    });
  }
}

/** A channel error is also reported by `close`; the listener only keeps it from being thrown. */
function watchChannel(channel: AmqpChannel, logger: Logger): void {
  channel.on('error', (err: Error) => logger.debug({ err }, 'rabbitmq channel error'));
}

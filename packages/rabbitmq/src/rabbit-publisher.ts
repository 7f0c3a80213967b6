import { type Logger, type MessageEnvelope } from '@concord/core';
import { partitionFor } from '@concord/core/spi';
import type { AmqpConfirmChannel, AmqpMessage } from './amqp-client.js';
import type { ChannelTopology } from './channel-topology.js';
import { isNack } from './confirm.js';
import { encodeEnvelope } from './envelope-codec.js';
import type { RabbitConnection } from './rabbit-connection.js';
import { RabbitPublishRejectedError, RabbitUnavailableError } from './rabbit-errors.js';
import type { RabbitNames } from './rabbit-names.js';
import type { RabbitBrokerSettings } from './rabbit-options.js';

interface Pending {
  readonly queue: string;
  readonly channel: string;
  returned: boolean;
}

/**
 * Publishes envelopes to their partition streams on one confirm channel. A single channel keeps
 * array order per stream; `mandatory` makes a deleted stream an error instead of a silent drop
 * (RabbitMQ returns such a message before confirming it).
 */
export class RabbitPublisher {
  private channel: Promise<AmqpConfirmChannel> | undefined;
  private readonly unconfirmed = new Map<string, Pending[]>();
  private readonly logger: Logger;

  constructor(
    private readonly connection: RabbitConnection,
    private readonly topology: ChannelTopology,
    private readonly names: RabbitNames,
    private readonly settings: RabbitBrokerSettings,
  ) {
    this.logger = settings.logger.child({ component: 'rabbitmq-publisher' });
  }

  async publish(messages: readonly MessageEnvelope[]): Promise<void> {
    if (messages.length === 0) return;
    const counts = new Map<string, number>();
    for (const channel of new Set(messages.map((m) => m.channel))) counts.set(channel, await this.topology.partitionsOf(channel));
    const ch = await this.openChannel();
    const confirms: Promise<void>[] = [];
    const sent: Array<{ key: string; pending: Pending }> = [];
    try {
      for (const message of messages) {
        const queue = this.names.stream(message.channel, partitionFor(message.partitionKey, counts.get(message.channel)!));
        const { body, properties } = encodeEnvelope(message);
        const pending: Pending = { queue, channel: message.channel, returned: false };
        const key = returnKey(queue, message.id);
        this.track(key, pending);
        sent.push({ key, pending });
        let writable = true;
        confirms.push(
          new Promise<void>((resolve, reject) => {
            writable = ch.sendToQueue(queue, body, properties, (error) => {
              if (!error) resolve();
              else reject(isNack(error) ? new RabbitPublishRejectedError(queue, 'nacked') : new RabbitUnavailableError('publish', error));
            });
          }),
        );
        if (!writable) await drained(ch);
      }
      await withTimeout(Promise.all(confirms), this.settings.publishTimeoutMs);
      const returned = sent.find((s) => s.pending.returned);
      if (returned) {
        this.topology.forget(returned.pending.channel);
        throw new RabbitPublishRejectedError(returned.pending.queue, 'unroutable');
      }
    } catch (error) {
      // Confirms still on their way settle into nothing; the caller republishes.
      for (const c of confirms) c.catch(() => undefined);
      throw error;
    } finally {
      for (const { key, pending } of sent) this.untrack(key, pending);
    }
  }

  async close(): Promise<void> {
    const ch = this.channel;
    this.channel = undefined;
    if (ch) await (await ch.catch(() => undefined))?.close().catch(() => undefined);
  }

  private openChannel(): Promise<AmqpConfirmChannel> {
    if (!this.channel) {
      const opening = this.connection.createConfirmChannel(this.settings.publishTimeoutMs).then((ch) => {
        ch.on('return', (message: AmqpMessage) => this.onReturn(message));
        ch.once('close', () => {
          if (this.channel === opening) this.channel = undefined;
        });
        return ch;
      });
      opening.catch(() => {
        if (this.channel === opening) this.channel = undefined;
      });
      this.channel = opening;
    }
    return this.channel;
  }

  private onReturn(message: AmqpMessage): void {
    const key = returnKey(message.fields.routingKey, String(message.properties.messageId));
    const pending = this.unconfirmed.get(key);
    if (pending) for (const p of pending) p.returned = true;
    this.logger.warn({ queue: message.fields.routingKey, messageId: message.properties.messageId }, 'message returned: no such stream');
  }

  private track(key: string, pending: Pending): void {
    const list = this.unconfirmed.get(key);
    if (list) list.push(pending);
    else this.unconfirmed.set(key, [pending]);
  }

  private untrack(key: string, pending: Pending): void {
    const list = this.unconfirmed.get(key);
    if (!list) return;
    const i = list.indexOf(pending);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.unconfirmed.delete(key);
  }
}

function returnKey(queue: string, messageId: string): string {
  return `${queue}\u0000${messageId}`;
}

function drained(ch: AmqpConfirmChannel): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      ch.off('drain', done);
      ch.off('close', done);
      resolve();
    };
    ch.on('drain', done);
    ch.on('close', done);
  });
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new RabbitUnavailableError('publish', new Error(`no publisher confirms within ${ms} ms`))),
      ms,
    );
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

import type { AmqpConfirmChannel, AmqpPublishOptions } from './amqp-client.js';
import { RabbitPublishRejectedError, RabbitUnavailableError } from './rabbit-errors.js';

/**
 * Sends one message to a queue and resolves once RabbitMQ confirmed it (for a durable queue:
 * written to disk and, for quorum queues and streams, replicated). Rejects if it was nacked
 * or the channel closed first.
 */
export function sendConfirmed(
  channel: AmqpConfirmChannel,
  queue: string,
  body: Buffer,
  options: AmqpPublishOptions = { persistent: true },
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    try {
      channel.sendToQueue(queue, body, options, (error) => {
        if (!error) resolve();
        else if (isNack(error)) reject(new RabbitPublishRejectedError(queue, 'nacked'));
        else reject(new RabbitUnavailableError(`publish to ${queue}`, error));
      });
    } catch (error) {
      reject(new RabbitUnavailableError(`publish to ${queue}`, error));
    }
  });
}

/** amqplib reports a nack as `new Error('message nacked')`; a closed channel differently. */
export function isNack(error: unknown): boolean {
  return error instanceof Error && /nack/i.test(error.message);
}

/** Resolves when the channel closes, for whatever reason. */
export function channelClosed(channel: { once(event: 'close', listener: () => void): unknown }): Promise<void> {
  return new Promise((resolve) => channel.once('close', () => resolve()));
}

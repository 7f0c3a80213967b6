/**
 * The parts of amqplib (2.x, promise API) this package uses, so the driver stays a peer
 * dependency and a reader sees at a glance which AMQP operations the broker relies on.
 */
import type { EventEmitter } from 'node:events';

export interface AmqpMessage {
  readonly content: Buffer;
  readonly fields: { readonly deliveryTag: number; readonly redelivered: boolean; readonly routingKey: string };
  readonly properties: { readonly headers?: Record<string, unknown> | undefined; readonly messageId?: unknown };
}

export interface AmqpQueueInfo {
  readonly queue: string;
  readonly messageCount: number;
  readonly consumerCount: number;
}

export interface AmqpPublishOptions {
  readonly persistent?: boolean;
  readonly mandatory?: boolean;
  readonly messageId?: string;
  readonly type?: string;
  readonly timestamp?: number;
  readonly contentType?: string;
  readonly appId?: string;
  readonly headers?: Record<string, unknown>;
}

export interface AmqpConsumeOptions {
  readonly noAck?: boolean;
  readonly exclusive?: boolean;
  readonly arguments?: Record<string, unknown>;
}

export interface AmqpChannel extends EventEmitter {
  close(): Promise<void>;
  assertQueue(
    queue: string,
    options?: { durable?: boolean; exclusive?: boolean; autoDelete?: boolean; arguments?: Record<string, unknown> },
  ): Promise<AmqpQueueInfo>;
  checkQueue(queue: string): Promise<AmqpQueueInfo>;
  deleteQueue(queue: string): Promise<unknown>;
  assertExchange(exchange: string, type: string, options?: { durable?: boolean; autoDelete?: boolean }): Promise<unknown>;
  bindQueue(queue: string, exchange: string, routingKey: string): Promise<unknown>;
  consume(queue: string, onMessage: (message: AmqpMessage | null) => void, options?: AmqpConsumeOptions): Promise<{ consumerTag: string }>;
  cancel(consumerTag: string): Promise<unknown>;
  ack(message: AmqpMessage, allUpTo?: boolean): void;
  prefetch(count: number, global?: boolean): Promise<unknown>;
  publish(exchange: string, routingKey: string, content: Buffer, options?: AmqpPublishOptions): boolean;
}

export interface AmqpConfirmChannel extends AmqpChannel {
  sendToQueue(
    queue: string,
    content: Buffer,
    options: AmqpPublishOptions,
    callback: (error: unknown) => void,
  ): boolean;
}

/** amqplib's recovering connection (`connect(url, { recovery })`): it reconnects by itself. */
export interface AmqpConnection extends EventEmitter {
  waitForConnect(): Promise<unknown>;
  createChannel(): Promise<AmqpChannel>;
  createConfirmChannel(): Promise<AmqpConfirmChannel>;
  close(): Promise<void>;
}

/** The model amqplib hands to `connect` listeners: one physical connection. */
export interface AmqpConnectedModel {
  readonly connection: { readonly serverProperties: { readonly version?: string | undefined } };
}

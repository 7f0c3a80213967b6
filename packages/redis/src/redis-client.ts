import type { Buffer } from 'node:buffer';

export type RedisArg = string | number | Buffer;

/** The pipeline methods this package uses (ioredis' `Pipeline` fits). */
export interface RedisPipelineLike {
  call(command: string, ...args: RedisArg[]): unknown;
  exec(): Promise<Array<[error: Error | null, result: unknown]> | null>;
}

/**
 * The only driver methods the package uses, so an ioredis `Redis` (any reply mapping) fits
 * and so does a thin wrapper for tests. Replies are normalised here, never assumed.
 */
export interface RedisClient {
  call(command: string, ...args: RedisArg[]): Promise<unknown>;
  pipeline(): RedisPipelineLike;
  quit(): Promise<unknown>;
}

/** A connection that can also open its own Pub/Sub connection (ioredis `duplicate()`). */
export interface RedisBrokerClient extends RedisClient {
  duplicate(): RedisSubscriberClient;
}

export interface RedisSubscriberClient extends RedisClient {
  subscribe(...channels: string[]): Promise<unknown>;
  on(event: 'message', listener: (channel: string, message: string) => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
}

/** Field/value pairs of a map reply: a flat RESP2 array, or an object under RESP3 mapping. */
export function replyPairs(reply: unknown): Array<[string, unknown]> {
  if (reply === null || reply === undefined) return [];
  if (Array.isArray(reply)) {
    const out: Array<[string, unknown]> = [];
    for (let i = 0; i + 1 < reply.length; i += 2) out.push([String(reply[i]), reply[i + 1]]);
    return out;
  }
  if (reply instanceof Map) return [...reply.entries()].map(([k, v]) => [String(k), v]);
  if (typeof reply === 'object') return Object.entries(reply as Record<string, unknown>);
  return [];
}

export function isReplyError(error: unknown, prefix: string): boolean {
  return error instanceof Error && error.message.startsWith(prefix);
}

/**
 * Every key the broker writes, under one prefix. The part in braces is a Redis Cluster hash
 * tag: a partition's stream and its leases share a slot, so the fenced read is one script.
 */
export class RedisBrokerKeys {
  constructor(readonly prefix: string) {}

  /** HASH channel → partition count, written once (HSETNX) so every instance agrees. */
  channels(): string {
    return `${this.prefix}channels`;
  }

  stream(channel: string, partition: number): string {
    return `${this.prefix}stream:{${channel}:${partition}}`;
  }

  lease(group: string, channel: string, partition: number): string {
    return `${this.prefix}lease:${group}:{${channel}:${partition}}`;
  }

  /** ZSET member → last heartbeat (server time, ms). */
  members(group: string): string {
    return `${this.prefix}members:${group}`;
  }

  /** Pub/Sub channel that says "partition N of this channel has new entries". */
  notify(channel: string): string {
    return `${this.prefix}notify:${channel}`;
  }
}

/** Escapes a literal for a SCAN MATCH pattern. */
export function globEscape(literal: string): string {
  return literal.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}

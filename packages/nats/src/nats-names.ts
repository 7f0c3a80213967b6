import { hashPartitionKey } from '@concord/core/spi';

/** Longest stream or consumer name we produce: stream names become directory names on the server. */
const MAX_NAME = 200;

/**
 * Makes a Concord name (letters, digits, '.', '_', ':', '-') safe as one NATS token, stream or
 * consumer name, injectively: '_' doubles, '.' and ':' become '_d' and '_c'.
 */
export function encodeToken(name: string): string {
  return name.replace(/[_.:]/g, (c) => (c === '_' ? '__' : c === '.' ? '_d' : '_c'));
}

function bounded(name: string): string {
  if (name.length <= MAX_NAME) return name;
  return `${name.slice(0, MAX_NAME - 10)}_h${hashPartitionKey(name).toString(16).padStart(8, '0')}`;
}

const PREFIX = /^[A-Za-z0-9-]{1,40}$/;

export function isValidStreamPrefix(prefix: string): boolean {
  return PREFIX.test(prefix);
}

/**
 * Every stream, subject and consumer name the broker uses, derived from one prefix so that
 * several deployments (or test files) share a server without seeing each other.
 *
 * - one stream per channel, `<prefix>-ch-<channel>`, subjects `<prefix>.<channel>.<partition>`;
 * - `<prefix>-meta`: partition counts per channel and saved consumer positions;
 * - `<prefix>-leases`: group members and partition leases, expiring by the stream's max age.
 */
export class NatsNames {
  constructor(readonly prefix: string) {}

  channelStream(channel: string): string {
    return bounded(`${this.prefix}-ch-${encodeToken(channel)}`);
  }

  /** Channel names never contain '*', '>' or spaces, so they are safe inside a subject. */
  channelSubject(channel: string, partition: number): string {
    return `${this.prefix}.${channel}.${partition}`;
  }

  channelSubjects(channel: string): string {
    return `${this.prefix}.${channel}.*`;
  }

  get metaStream(): string {
    return `${this.prefix}-meta`;
  }

  get metaSubjects(): string {
    return `${this.prefix}.$meta.>`;
  }

  partitionsKey(channel: string): string {
    return `${this.prefix}.$meta.partitions.${encodeToken(channel)}`;
  }

  positionKey(group: string, channel: string, partition: number): string {
    return `${this.prefix}.$meta.position.${encodeToken(group)}.${encodeToken(channel)}.${partition}`;
  }

  get leaseStream(): string {
    return `${this.prefix}-leases`;
  }

  get leaseSubjects(): string {
    return `${this.prefix}.$lease.>`;
  }

  memberKey(group: string, memberId: string): string {
    return `${this.prefix}.$lease.${encodeToken(group)}.m.${memberId}`;
  }

  membersFilter(group: string): string {
    return `${this.prefix}.$lease.${encodeToken(group)}.m.*`;
  }

  leaseKey(group: string, channel: string, partition: number): string {
    return `${this.prefix}.$lease.${encodeToken(group)}.p.${encodeToken(channel)}.${partition}`;
  }

  /** One durable consumer per (group, partition) inside the channel's stream. */
  consumerName(group: string, partition: number): string {
    return bounded(`${encodeToken(group)}_p${partition}`);
  }
}

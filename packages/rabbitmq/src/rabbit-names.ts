import { createHash } from 'node:crypto';
import { InvalidArgumentError } from '@concord/core';

const NAME = /^[A-Za-z0-9._:-]+$/;
/** RabbitMQ's limit on queue and exchange names, in bytes (our names are ASCII). */
const MAX_NAME = 255;

/**
 * Every name this broker gives RabbitMQ. Channel and group names cannot contain `/`, so the
 * `/`-separated parts never run into each other; names over 255 bytes keep a readable head
 * and end in a hash of the whole.
 */
export class RabbitNames {
  constructor(readonly prefix: string) {
    if (!NAME.test(prefix) || prefix.length > 60) {
      throw new InvalidArgumentError(`prefix "${prefix}" must be 1-60 characters of letters, digits, '.', '_', ':' or '-'`);
    }
  }

  /** The stream holding one partition of a channel. */
  stream(channel: string, partition: number): string {
    return bounded(`${this.prefix}/ch/${channel}/${partition}`);
  }

  /** The stream whose first message fixes a channel's partition count. */
  channelDescriptor(channel: string): string {
    return bounded(`${this.prefix}/ch/${channel}/meta`);
  }

  /** The quorum queue whose single active consumer owns a partition for a group, holding its offset. */
  lease(group: string, channel: string, partition: number): string {
    return bounded(`${this.prefix}/lease/${group}/${channel}/${partition}`);
  }

  /** The exchange group members announce themselves on (routing key: the group). */
  membershipExchange(): string {
    return `${this.prefix}/members`;
  }
}

function bounded(name: string): string {
  if (Buffer.byteLength(name) <= MAX_NAME) return name;
  const hash = createHash('sha1').update(name).digest('hex').slice(0, 20);
  return `${name.slice(0, MAX_NAME - 22)}~${hash}`;
}

import { InvalidArgumentError } from '@concord/core';

const NAME = /^[A-Za-z0-9][A-Za-z0-9._:-]*$/;

/** Core's rule for channel and group names; it keeps keys free of braces and glob characters. */
export function assertName(what: string, name: string): void {
  if (typeof name !== 'string' || !NAME.test(name) || name.length > 190) {
    throw new InvalidArgumentError(
      `${what} "${String(name)}" must be 1-190 characters of letters, digits, '.', '_', ':' or '-'`,
    );
  }
}

export const assertChannel = (channel: string) => assertName('channel', channel);
export const assertGroup = (group: string) => assertName('consumer group', group);

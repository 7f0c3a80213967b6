import { hashPartitionKey } from '@concord/core';

/**
 * A server-wide name for `GET_LOCK`, scoped to one service's database. Lock names are global
 * to the server and limited to 64 characters, so a long database name is hashed.
 */
export function lockName(database: string, purpose: string): string {
  const plain = `concord:${database}:${purpose}`;
  if (plain.length <= 64) return plain;
  const hashed = `concord:${hashPartitionKey(database).toString(36)}:${purpose}`;
  return hashed.length <= 64 ? hashed : `concord:${hashPartitionKey(`${database}:${purpose}`).toString(36)}`;
}

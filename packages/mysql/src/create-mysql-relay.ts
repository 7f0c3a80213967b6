import type { Relay } from '@concord/core';
import { MysqlBinlogRelay, type MysqlBinlogRelayOptions } from './binlog/binlog-relay.js';
import { MysqlPollingRelay, type MysqlPollingRelayOptions } from './mysql-polling-relay.js';

export type MysqlRelayOptions =
  | ({ readonly mode: 'polling' } & MysqlPollingRelayOptions)
  | ({ readonly mode: 'tailing' } & MysqlBinlogRelayOptions);

/**
 * The relay for a MySQL/MariaDB store. `polling` reads the outbox table (any server, any
 * number of instances sharing its shards); `tailing` reads the row-based binary log (lower
 * latency and load; refuses to be created, with a `MysqlConfigError`, when the server's log
 * cannot serve it). Call `start()` on the result.
 */
export async function createMysqlRelay(options: { readonly mode: 'polling' } & MysqlPollingRelayOptions): Promise<MysqlPollingRelay>;
export async function createMysqlRelay(options: { readonly mode: 'tailing' } & MysqlBinlogRelayOptions): Promise<MysqlBinlogRelay>;
export async function createMysqlRelay(options: MysqlRelayOptions): Promise<MysqlPollingRelay | MysqlBinlogRelay>;
export async function createMysqlRelay(options: MysqlRelayOptions): Promise<Relay> {
  if (options.mode === 'polling') return new MysqlPollingRelay(options);
  const relay = new MysqlBinlogRelay(options);
  await relay.prepare();
  return relay;
}

import type { PoolConnection } from 'mysql2/promise';
import { expect } from 'vitest';
import { MessageConsumer, silentLogger, type Broker } from '@concord/core';
import { counterEvent } from '@concord/core/testing';
import type { MysqlStore } from '../mysql-store.js';

export interface Effect {
  message_id: string;
  k: string;
  seq: number;
}

/** A consumer-side business table with no unique key, so applying a message twice shows. */
export async function createEffectsTable(store: MysqlStore): Promise<void> {
  await store.driver.run((exec) =>
    exec.execute(
      'CREATE TABLE IF NOT EXISTS effects (n BIGINT AUTO_INCREMENT PRIMARY KEY, message_id VARCHAR(64) NOT NULL, k VARCHAR(64) NOT NULL, seq INT NOT NULL)',
    ),
  );
}

export function effectsConsumer(name: string, store: MysqlStore, broker: Broker, channel: string): MessageConsumer<PoolConnection> {
  return new MessageConsumer({ name, store, broker, logger: silentLogger }).handle(counterEvent(channel), async (tx, p, m) => {
    await tx.handle.query('INSERT INTO effects (message_id, k, seq) VALUES (?, ?, ?)', [m.id, p.key, p.seq]);
  });
}

export async function effectsOf(store: MysqlStore): Promise<Effect[]> {
  return store.driver.run((exec) => exec.query<Effect>('SELECT message_id, k, seq FROM effects ORDER BY n'));
}

/** Every message applied once, and each key's messages applied in sequence order. */
export function expectExactlyOnceInOrder(rows: readonly Effect[], keys: number, perKey: number): void {
  expect(rows).toHaveLength(keys * perKey);
  expect(new Set(rows.map((r) => r.message_id)).size).toBe(keys * perKey);
  const byKey = new Map<string, number[]>();
  for (const r of rows) byKey.set(r.k, [...(byKey.get(r.k) ?? []), Number(r.seq)]);
  expect(byKey.size).toBe(keys);
  for (const [, seqs] of byKey) expect(seqs).toEqual(Array.from({ length: perKey }, (_, i) => i));
}

import type { MessageEnvelope } from '@concord/core';
import { testEnvelope } from '@concord/core/testing';
import type { PostgresStore } from '../postgres-store.js';

/**
 * Writes `perKey` messages for each of `keys` keys, seq-major, `perTx` messages per transaction,
 * with multi-row inserts so tests spend their time relaying, not producing.
 */
export async function produce(store: PostgresStore, channel: string, keys: number, perKey: number, perTx = 100, firstSeq = 0) {
  const all: MessageEnvelope[] = [];
  for (let seq = firstSeq; seq < firstSeq + perKey; seq++) for (let k = 0; k < keys; k++) all.push(testEnvelope(channel, `key-${k}`, seq));
  for (let i = 0; i < all.length; i += perTx) {
    await store.sqlTransaction(async (tx) => {
      await tx.insertOutbox(all.slice(i, i + perTx));
    });
  }
  return all;
}

import type { SqlDriver } from '../sql/sql-driver.js';
import type { RetentionTask } from './retention-sweeper.js';

const DAY = 24 * 3_600_000;

/** How long the store's own bookkeeping is kept. `null` keeps a table's rows forever. */
export interface StoreRetentionPolicy {
  /**
   * Inbox rows (message ids a consumer handled). Default 7 days. A duplicate that arrives after
   * this would run again, so keep it longer than the broker may redeliver (its retention, a
   * relay's replay window). Saga commands stay safe regardless: the participant barrier, kept
   * until the saga is finished, answers their duplicates.
   */
  readonly inboxMs?: number | null;
  /** Failed-attempt counters untouched this long (the message was handled or parked). Default 7 days. */
  readonly attemptsMs?: number | null;
  /** Dead letters replayed or discarded this long ago. Default 30 days. Open ones are never removed. */
  readonly deadLettersMs?: number | null;
  /** Relay-parked outbox rows replayed or discarded this long ago. Default 30 days. */
  readonly parkedOutboxMs?: number | null;
}

export const defaultStoreRetention = {
  inboxMs: 7 * DAY,
  attemptsMs: 7 * DAY,
  deadLettersMs: 30 * DAY,
  parkedOutboxMs: 30 * DAY,
} as const satisfies Required<StoreRetentionPolicy>;

/** The retention task of one service's store (inbox, attempts, dead letters, parked outbox rows). */
export function storeRetentionTask(driver: SqlDriver, policy: StoreRetentionPolicy = {}, name = 'store'): RetentionTask {
  const p = { ...defaultStoreRetention, ...policy };
  const t = (n: string) => driver.dialect.table(n);
  const rules: Array<[string, number | null, string]> = [
    ['inbox', p.inboxMs, `DELETE FROM ${t('inbox')} WHERE processed_at < ?`],
    ['attempts', p.attemptsMs, `DELETE FROM ${t('attempts')} WHERE updated_at < ?`],
    ['deadLetters', p.deadLettersMs, `DELETE FROM ${t('dead_letters')} WHERE replayed_at IS NOT NULL AND replayed_at < ?`],
    ['parkedOutbox', p.parkedOutboxMs, `DELETE FROM ${t('outbox_parked')} WHERE resolved_at IS NOT NULL AND resolved_at < ?`],
  ];
  return {
    name,
    async sweep(now) {
      const removed: Record<string, number> = {};
      for (const [table, keepMs, sql] of rules) {
        if (keepMs === null) continue;
        removed[table] = await driver.run((exec) => exec.execute(sql, [now - keepMs]));
      }
      return removed;
    },
  };
}

import type { Store } from '../ports/store.js';
import type { SqlDialect, SqlExecutor } from '../sql/sql-driver.js';

/**
 * What sagas need of a service's database: the store port, plus Concord's portable SQL on the
 * saga tables. Orchestrators and participants are typed on this port, never on a concrete
 * store class; the SQL layer's `SqlStore` implements it. Transactions come from
 * `transaction()`, and their `sql` executor reaches the saga tables in the same commit.
 */
export interface SagaStore<H = unknown> extends Store<H> {
  /** The dialect the saga tables were created in (table names, locking clauses). */
  readonly sqlDialect: SqlDialect;
  /** Runs reads outside a transaction (each statement commits on its own); `fn` may run twice. */
  read<T>(fn: (exec: SqlExecutor) => Promise<T>): Promise<T>;
  /** Deletes inbox rows older than `olderThanMs` (a participant's retention sweep). */
  purgeInbox(olderThanMs: number): Promise<number>;
}

import type { SqlExecutor } from '@concord/core';
import type { SqlDriver, SqlTransactionOptions } from '@concord/core/spi';
import type { RunControl } from './run-control.js';

/**
 * Wraps a service's real SQL driver for one incarnation of its process. Each read-write
 * transaction is a commit boundary where the run may crash the process just before COMMIT
 * (the real database rolls the transaction back) or just after it (committed, but the
 * caller never hears so and no after-commit hook runs). Once its process has crashed, every
 * call fails, as calls from a dead process would never happen.
 */
export class FaultInjectingDriver<H> implements SqlDriver<H> {
  readonly dialect;

  constructor(
    private readonly inner: SqlDriver<H>,
    private readonly control: RunControl,
    private readonly service: string,
    private readonly incarnation: number,
  ) {
    this.dialect = inner.dialect;
    if (inner.notify) this.notify = (exec, topic) => inner.notify!(exec, topic);
  }

  notify?: (exec: SqlExecutor, topic: string) => Promise<void>;

  async transaction<T>(fn: (exec: SqlExecutor, handle: H) => Promise<T>, options?: SqlTransactionOptions): Promise<T> {
    this.control.assertAlive(this.incarnation, `transaction in ${this.service}`);
    if (options?.readOnly) return this.inner.transaction(fn, options);
    let crashAfterCommit = false;
    const value = await this.inner.transaction(async (exec, handle) => {
      const result = await fn(exec, handle);
      // The process may have died while fn ran (a crash elsewhere): its work must not commit.
      this.control.assertAlive(this.incarnation, `commit in ${this.service}`);
      const fault = this.control.reach('commit', `in ${this.service}`);
      if (fault === 'crash-before-commit') throw this.control.crash(`before commit in ${this.service}`);
      crashAfterCommit = fault === 'crash-after-commit';
      return result;
    }, options);
    if (crashAfterCommit) throw this.control.crash(`after commit in ${this.service}`);
    return value;
  }

  run<T>(fn: (exec: SqlExecutor) => Promise<T>): Promise<T> {
    this.control.assertAlive(this.incarnation, `statement in ${this.service}`);
    return this.inner.run(fn);
  }

  withMigrationLock<T>(fn: (exec: SqlExecutor) => Promise<T>): Promise<T> {
    this.control.assertAlive(this.incarnation, `migration in ${this.service}`);
    return this.inner.withMigrationLock(fn);
  }

  /** The database outlives the process: closing the store of a crashed process leaves it open. */
  async close(): Promise<void> {}
}

import type { Broker } from '../ports/broker.js';
import { IllegalStateError } from '../errors.js';
import { SqlBroker } from '../sql/sql-broker.js';
import type { FailoverUnderTest } from './failover-conformance.js';

/**
 * The failover suite's target for an in-database broker: `open` makes a broker with its own
 * driver (pool, file handle), and `kill` makes every statement of that driver fail at once, as
 * if its process had died: nothing is released, its leases only expire.
 */
export function sqlBrokerFailover(options: {
  readonly open: () => Promise<SqlBroker>;
  readonly leaseMs: number;
  readonly cleanup: () => Promise<void>;
}): FailoverUnderTest {
  return {
    open: options.open,
    leaseMs: options.leaseMs,
    cleanup: options.cleanup,
    kill: async (broker: Broker) => {
      if (!(broker instanceof SqlBroker)) throw new IllegalStateError(`not an in-database broker: ${broker.name}`);
      const dead = (): Promise<never> => Promise.reject(new Error('this process is dead'));
      // Own properties shadow the driver's methods; `close` stays, so the test can still free the pool.
      Object.assign(broker.driver, { run: dead, transaction: dead, withMigrationLock: dead });
    },
  };
}

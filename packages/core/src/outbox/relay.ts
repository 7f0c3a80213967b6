import type { OutboxLag } from '../ports/store.js';

/**
 * Anything that moves committed outbox messages to a broker: the polling `OutboxRelay`, or a
 * log-tailing relay of a store adapter. Guarantees: a message is published at least once,
 * in commit order per partition key, and only after its transaction committed.
 */
export interface Relay {
  start(): void;
  stop(): Promise<void>;
  /** Messages committed but not yet accepted by the broker. */
  lag(): Promise<OutboxLag>;
  /** True between start() and stop(): the relay's loop is alive (for readiness checks). */
  isRunning?(): boolean;
}

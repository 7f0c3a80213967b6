import { InvalidArgumentError, RetentionSweeper, SqlBroker, type Broker, type Logger, type RetentionTask, type SagaOrchestrator, type SqlStore } from '@concord/core';

/**
 * The demo's retention: every service store's own tables (inbox, attempts, replayed dead letters,
 * resolved parked outbox rows), the order service's finished sagas, and, on the in-database
 * broker, messages every group has read. Defaults as documented in docs/outbox-and-consumers.md;
 * `CONCORD_RETENTION_INTERVAL_MS` sets how often it runs (default 10 minutes),
 * `CONCORD_BROKER_RETENTION_MS` how long the in-database broker keeps read messages (default:
 * for ever, so the order-history view can always be rebuilt from the whole log).
 */
export function startRetention(
  parts: { stores: readonly SqlStore[]; broker: Broker; orchestrator?: SagaOrchestrator | undefined },
  logger: Logger,
  env: Record<string, string | undefined> = process.env,
): RetentionSweeper {
  const tasks: RetentionTask[] = parts.stores.map((store, i) => ({ ...store.retentionTask(), name: `store-${i}` }));
  if (parts.orchestrator) tasks.push(parts.orchestrator.retentionTask());
  const brokerMs = positive('CONCORD_BROKER_RETENTION_MS', env.CONCORD_BROKER_RETENTION_MS) ?? null;
  if (parts.broker instanceof SqlBroker) tasks.push(parts.broker.retentionTask(brokerMs));
  const sweeper = new RetentionSweeper({
    tasks,
    intervalMs: positive('CONCORD_RETENTION_INTERVAL_MS', env.CONCORD_RETENTION_INTERVAL_MS) ?? 600_000,
    logger,
  });
  sweeper.start();
  return sweeper;
}

function positive(name: string, value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${name} must be a positive integer (milliseconds), got "${value}"`);
  return n;
}

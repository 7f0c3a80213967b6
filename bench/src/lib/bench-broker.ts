import { join } from 'node:path';
import { silentLogger, type Broker } from '@concord/core';

/**
 * The broker a benchmark pipeline's two services meet in, as plain data: the producer process
 * and the consumer process (which receives it as JSON) open the same broker from it.
 */
export type BrokerSpec =
  /** The in-database broker, in `broker.db` of the pipeline's directory. */
  | { readonly kind: 'sqlite'; readonly partitions?: number }
  | { readonly kind: 'nats'; readonly servers: string; readonly streamPrefix: string }
  | { readonly kind: 'redis'; readonly url: string; readonly keyPrefix: string }
  | {
      readonly kind: 'rabbitmq';
      readonly url: string;
      readonly prefix: string;
      readonly partitions?: number;
      readonly maxBatchSize?: number;
    };

/** Every adapter has `partitionsOf`; the port does not, so it is named here. */
export type PartitionedBroker = Broker & { partitionsOf(channel: string): Promise<number> };

export interface BenchBroker {
  readonly broker: PartitionedBroker;
  /**
   * Closes the broker. With `drop`, first deletes what the server keeps per channel and group
   * (RabbitMQ's streams and offsets); NATS streams and Redis keys are dropped by prefix by
   * their suites, the SQLite file with the pipeline's directory.
   */
  close(drop?: { channel: string; group: string }): Promise<void>;
}

/**
 * Opens the broker `spec` describes. Adapters are imported on demand, so a process that uses
 * one broker does not load the drivers of the others.
 */
export async function openBenchBroker(spec: BrokerSpec, dir: string): Promise<BenchBroker> {
  const logger = silentLogger;
  switch (spec.kind) {
    case 'sqlite': {
      const { openSqliteBroker } = await import('@concord/sqlite');
      const broker = await openSqliteBroker({
        filename: join(dir, 'broker.db'),
        logger,
        partitions: spec.partitions ?? 16,
      });
      return { broker, close: () => broker.close() };
    }
    case 'nats': {
      const { openNatsBroker } = await import('@concord/nats');
      const broker = await openNatsBroker({ servers: spec.servers, streamPrefix: spec.streamPrefix, logger });
      return { broker, close: () => broker.close() };
    }
    case 'redis': {
      const { openRedisBroker } = await import('@concord/redis');
      const broker = await openRedisBroker({ url: spec.url, keyPrefix: spec.keyPrefix, logger });
      return { broker, close: () => broker.close() };
    }
    case 'rabbitmq': {
      const { openRabbitBroker } = await import('@concord/rabbitmq');
      const { url, prefix, partitions, maxBatchSize } = spec;
      const broker = await openRabbitBroker({ url, prefix, partitions, maxBatchSize, logger });
      return {
        broker,
        close: async (drop) => {
          if (drop)
            await broker.deleteTopology({
              channels: [drop.channel],
              groups: [{ group: drop.group, channels: [drop.channel] }],
            });
          await broker.close();
        },
      };
    }
  }
}

import { join } from 'node:path';
import { InvalidArgumentError, OutboxRelay, type Broker, type Instrumentation, type Logger, type Relay, type SqlStore } from '@concord/core';
import { openMysqlBroker, openMysqlStore, createMysqlRelay, type MysqlStore } from '@concord/mysql';
import { openNatsBroker } from '@concord/nats';
import { createPostgresRelay, openPostgresBroker, openPostgresStore, PostgresStore } from '@concord/postgres';
import { openRabbitBroker } from '@concord/rabbitmq';
import { openRedisBroker } from '@concord/redis';
import { openSqliteBroker, openSqliteStore } from '@concord/sqlite';

export type ServiceName = 'customer-service' | 'order-service' | 'order-history';

export interface InfrastructureConfig {
  /** SQLite files go here when no database URL is given. */
  readonly dataDir: string;
  /** `postgres://…/base` or `mysql://…/base`: each service gets database `<base>_<service>`, created when missing. */
  readonly databaseUrl?: string | undefined;
  /** `nats://…`, `amqp://…`, `redis://…`; default: the in-database broker of the store. */
  readonly brokerUrl?: string | undefined;
  /** Names every stream, queue or key the broker creates (letters, digits, '-'); default `concord`. */
  readonly brokerPrefix?: string | undefined;
}

/**
 * Where each service keeps its data and how they talk: SQLite files and the SQLite broker by
 * default, or PostgreSQL/MySQL and NATS/RabbitMQ/Redis/in-database broker by URL.
 */
export class Infrastructure {
  readonly storeKind: 'sqlite' | 'postgres' | 'mysql';
  readonly brokerKind: 'sqlite' | 'postgres' | 'mysql' | 'nats' | 'rabbitmq' | 'redis';

  constructor(
    private readonly config: InfrastructureConfig,
    private readonly logger: Logger,
  ) {
    this.storeKind = storeKindOf(config.databaseUrl);
    this.brokerKind = brokerKindOf(config.brokerUrl) ?? this.storeKind;
  }

  describe(): string {
    return `store ${this.storeKind}, broker ${this.brokerKind}`;
  }

  /** The URL of one service's own database: `<base>_<service>` on the same server. */
  serviceDatabaseUrl(service: string): string {
    const url = new URL(this.config.databaseUrl!);
    const base = url.pathname.replace(/^\//, '') || 'concord';
    url.pathname = `/${base}_${service.replaceAll('-', '_')}`;
    return url.toString();
  }

  /**
   * One service's store: `<dataDir>/<service>.db`, or database `<base>_<service>` (other examples
   * name their own services). `instrumentation` stamps the active trace context on outgoing
   * messages (when tracing is on).
   */
  async openStore(service: ServiceName | (string & {}), instrumentation?: Instrumentation): Promise<SqlStore> {
    const logger = this.logger;
    switch (this.storeKind) {
      case 'sqlite':
        return openSqliteStore({ filename: join(this.config.dataDir, `${service}.db`), logger, instrumentation });
      case 'postgres':
        return openPostgresStore({ connectionString: this.serviceDatabaseUrl(service), createDatabase: true, logger, instrumentation });
      case 'mysql':
        return openMysqlStore({ connectionString: this.serviceDatabaseUrl(service), createDatabase: true, logger, instrumentation });
    }
  }

  async openBroker(): Promise<Broker> {
    const url = this.config.brokerUrl;
    const logger = this.logger;
    const prefix = this.config.brokerPrefix;
    switch (this.brokerKind) {
      case 'nats':
        return openNatsBroker({ servers: url!, logger, ...(prefix ? { streamPrefix: prefix } : {}) });
      case 'rabbitmq':
        return openRabbitBroker({ url: url!, logger, ...(prefix ? { prefix } : {}) });
      case 'redis':
        return openRedisBroker({ url: url!, logger, ...(prefix ? { keyPrefix: `${prefix}:` } : {}) });
      case 'postgres':
        return openPostgresBroker({ connectionString: this.serviceDatabaseUrl('broker'), createDatabase: true, logger });
      case 'mysql':
        return openMysqlBroker({ connectionString: this.serviceDatabaseUrl('broker'), createDatabase: true, logger });
      case 'sqlite':
        return openSqliteBroker({ filename: join(this.config.dataDir, 'broker.db'), logger });
    }
  }

  /** A relay that may run in several processes of the same service at once. */
  async startRelay(store: SqlStore, broker: Broker, instrumentation?: Instrumentation): Promise<Relay> {
    const logger = this.logger;
    let relay: Relay;
    if (store instanceof PostgresStore) relay = createPostgresRelay({ mode: 'polling', store, broker, logger, instrumentation });
    else if (this.storeKind === 'mysql') relay = await createMysqlRelay({ mode: 'polling', store: store as unknown as MysqlStore, broker, logger, instrumentation });
    else relay = new OutboxRelay({ store, broker, logger, instrumentation });
    relay.start();
    return relay;
  }
}

function storeKindOf(url: string | undefined): Infrastructure['storeKind'] {
  if (!url) return 'sqlite';
  if (/^postgres(ql)?:\/\//.test(url)) return 'postgres';
  if (/^mysql:\/\//.test(url) || /^mariadb:\/\//.test(url)) return 'mysql';
  throw new InvalidArgumentError(`CONCORD_DATABASE_URL must start with postgres:// or mysql://, got "${url}"`);
}

function brokerKindOf(url: string | undefined): Infrastructure['brokerKind'] | undefined {
  if (!url) return undefined;
  if (url.startsWith('nats://')) return 'nats';
  if (url.startsWith('amqp://') || url.startsWith('amqps://')) return 'rabbitmq';
  if (url.startsWith('redis://') || url.startsWith('rediss://')) return 'redis';
  throw new InvalidArgumentError(`CONCORD_BROKER_URL must start with nats://, amqp:// or redis://, got "${url}"`);
}

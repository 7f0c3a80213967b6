import type { PoolConnection } from 'mysql2/promise';
import { SqlBroker } from '@concord/core';
import { migrateOrClose } from '@concord/core/spi';
import { openMysqlDriver } from './mysql-connect.js';
import type { MysqlDriver } from './mysql-driver.js';
import type { MysqlBrokerOptions } from './mysql-options.js';
import type { MysqlConnection } from './mysql-pool.js';

/** Core's SqlBroker, whose `close()` also ends its pool (core's leaves the driver open). */
export class MysqlBroker<C extends MysqlConnection = PoolConnection> extends SqlBroker {
  declare readonly driver: MysqlDriver<C>;

  override async close(): Promise<void> {
    await super.close();
    await this.driver.close();
  }
}

/** The in-database broker on MySQL/MariaDB: channels, partitions and consumer groups in tables. */
export async function openMysqlBroker<C extends MysqlConnection = PoolConnection>(options: MysqlBrokerOptions<C>): Promise<MysqlBroker<C>> {
  const driver = await openMysqlDriver(options);
  return migrateOrClose(new MysqlBroker<C>(driver, options), () => driver.close());
}

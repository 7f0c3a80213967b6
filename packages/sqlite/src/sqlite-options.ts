import type { SqlBrokerOptions } from '@concord/core';
import type { SqlStoreOptions } from '@concord/core/spi';
import type { SqliteDriverOptions } from './sqlite-driver.js';

/** `openSqliteStore`: the service's database file, the driver's tuning and the store's options. */
export type SqliteStoreOptions = SqliteDriverOptions & SqlStoreOptions;

/** `openSqliteBroker`: the broker's own database file, the driver's tuning and the broker's options. */
export type SqliteBrokerOptions = SqliteDriverOptions & SqlBrokerOptions;

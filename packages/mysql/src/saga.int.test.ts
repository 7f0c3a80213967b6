import { silentLogger, type SqlStore } from '@concord/core';
import {
  describeCountermeasuresConformance,
  describeDeadlockConformance,
  describeIsolationConformance,
  describeSagaConformance,
  describeSagaGroupConformance,
  serviceAvailable,
  services,
} from '@concord/core/testing';
import { openMysqlBroker, openMysqlStore } from './index.js';
import { createTestDatabase } from './testing/test-database.js';

const available = await serviceAvailable(services.mariadb);

if (available) {
  const sagaServices = async () => {
    // Two services, two databases, and the in-database broker in a third: as deployed.
    const orders = await createTestDatabase('saga_orders');
    const customers = await createTestDatabase('saga_customers');
    const messaging = await createTestDatabase('saga_broker');
    const orchestratorStore = await openMysqlStore({ connectionString: orders.uri, logger: silentLogger });
    const participantStore = await openMysqlStore({ connectionString: customers.uri, logger: silentLogger });
    const broker = await openMysqlBroker({ connectionString: messaging.uri, leaseMs: 1_000, pollIntervalMs: 50, logger: silentLogger });
    return {
      orchestratorStore: orchestratorStore as unknown as SqlStore,
      participantStore: participantStore as unknown as SqlStore,
      broker,
      cleanup: async () => {
        await broker.close();
        await orchestratorStore.close();
        await participantStore.close();
        for (const db of [orders, customers, messaging]) await db.drop();
      },
    };
  };
  describeSagaConformance('mysql (MariaDB)', sagaServices);
  describeSagaGroupConformance('mysql (MariaDB)', sagaServices);
  describeIsolationConformance('mysql (MariaDB)', sagaServices);
  describeDeadlockConformance('mysql (MariaDB)', sagaServices);
  describeCountermeasuresConformance('mysql (MariaDB)', async () => {
    const services = await sagaServices();
    return { store: services.orchestratorStore, cleanup: services.cleanup };
  });
}

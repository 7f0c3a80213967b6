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
import { openPostgresBroker, openPostgresStore } from './index.js';
import { createTestDatabase } from './testing/test-database.js';

const available = await serviceAvailable(services.postgres);

if (available) {
  const sagaServices = async () => {
    // Two services, two databases, and the in-database broker in a third: as deployed.
    const [orders, customers, messaging] = await Promise.all([
      createTestDatabase('saga_orders'),
      createTestDatabase('saga_customers'),
      createTestDatabase('saga_broker'),
    ]);
    const orchestratorStore = await openPostgresStore({ connectionString: orders.url, poolSize: 4, logger: silentLogger });
    const participantStore = await openPostgresStore({ connectionString: customers.url, poolSize: 4, logger: silentLogger });
    const broker = await openPostgresBroker({ connectionString: messaging.url, poolSize: 6, leaseMs: 1_000, pollIntervalMs: 50, logger: silentLogger });
    return {
      orchestratorStore: orchestratorStore as unknown as SqlStore,
      participantStore: participantStore as unknown as SqlStore,
      broker,
      cleanup: async () => {
        await broker.close();
        await orchestratorStore.close();
        await participantStore.close();
        await Promise.all([orders.drop(), customers.drop(), messaging.drop()]);
      },
    };
  };
  describeSagaConformance('postgres', sagaServices);
  describeSagaGroupConformance('postgres', sagaServices);
  describeIsolationConformance('postgres', sagaServices);
  describeDeadlockConformance('postgres', sagaServices);
  describeCountermeasuresConformance('postgres', async () => {
    const services = await sagaServices();
    return { store: services.orchestratorStore, cleanup: services.cleanup };
  });
}

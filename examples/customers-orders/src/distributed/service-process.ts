/**
 * One service instance of the distributed demo: `SERVICE=customer-service|order-service|
 * order-history PORT=… CONCORD_DATABASE_URL=… CONCORD_BROKER_URL=…`. It serves only its own
 * routes; the gateway sends each request to an instance of the right service.
 */
import { combineInstrumentation, createLogger, InvalidArgumentError, type Relay, type SagaOrchestrator } from '@concord/core';
import { PrometheusMetrics, Readiness, startTracingFromEnv, type WatchedService } from '@concord/observability';
import { readConfig } from '../config.js';
import { startRetention } from '../retention.js';
import { startCpuProfileIfAsked } from './cpu-profile.js';
import { withDeliveryFaults } from './delivery-faults.js';
import { tellLauncher } from './instance-messages.js';
import { CustomerService } from '../customer-service/customer-service.js';
import { sagaAdminRoutes, storeAdminRoutes, viewAdminRoutes } from '../http/admin-routes.js';
import { customerRoutes, historyRoutes, orderRoutes } from '../http/demo-routes.js';
import { AddressInUseError, closeGracefully, EventStreams, forwardedClient, guardProcess, listen, Router } from '@concord/http';
import { createServiceServer } from '../http/http-server.js';
import { opsRoutes } from '../http/ops-routes.js';
import { Infrastructure, type ServiceName } from '../infrastructure.js';
import { OrderHistoryView } from '../order-history/order-history-view.js';
import { OrderService } from '../order-service/order-service.js';

const service = process.env.SERVICE as ServiceName;
if (!['customer-service', 'order-service', 'order-history'].includes(service)) {
  throw new InvalidArgumentError(`SERVICE must be customer-service, order-service or order-history, got "${service}"`);
}
const config = readConfig();
const stopProfile = await startCpuProfileIfAsked(`${service}-${process.env.INSTANCE ?? '1'}`);
const logger = createLogger({ name: `${service}#${process.env.INSTANCE ?? '1'}`, level: process.env.CONCORD_LOG_LEVEL ?? 'info' });
const infra = new Infrastructure(config, logger);
// Each instance serves its own /metrics and /ready (scraped per instance, not through the gateway).
const metrics = new PrometheusMetrics();
const tracing = startTracingFromEnv(service);
const instrumentation = tracing
  ? combineInstrumentation(metrics.instrumentation(service), tracing.tracing.instrumentation(service))
  : metrics.instrumentation(service);
// CONCORD_CHAOS_DELIVERY (chaos campaign only) duplicates and reorders deliveries; off by default.
const broker = withDeliveryFaults(await infra.openBroker());
const store = await infra.openStore(service, instrumentation);
const readiness = new Readiness().add(`store:${service}`, () => store.outbox.lag()).add(`broker:${broker.name}`, () => broker.ping?.());
let watched: WatchedService = { outboxLag: () => store.outbox.lag(), deadLetters: async () => (await store.deadLetters.list({ limit: 10_000 })).length };
let orchestrator: SagaOrchestrator | undefined;
const router = new Router();
// Every client reaches this instance through the gateway on loopback: count streams per the client it forwards.
const streams = new EventStreams({ ...config.streamLimits, clientKey: forwardedClient });
const stops: Array<() => Promise<void>> = [];
let relay: Relay | undefined;

if (service === 'customer-service') {
  const customers = new CustomerService({ store, broker, mode: config.sagaMode, logger, instrumentation });
  await customers.start();
  readiness.add(`consumers:${service}`, () => customers.isRunning() || Promise.reject(new Error('consumers are not running')));
  stops.push(() => customers.stop());
  customerRoutes(router, customers);
  relay = await infra.startRelay(store, broker, instrumentation);
} else if (service === 'order-service') {
  // Another instance may commit a watched order's change: re-read watched orders every 20 ms.
  const orders = new OrderService({ store, broker, mode: config.sagaMode, logger, crossProcessPollMs: 20, instrumentation });
  await orders.start();
  readiness.add(`consumers:${service}`, () => orders.isRunning() || Promise.reject(new Error('consumers are not running')));
  if (orders.orchestrator) {
    const running = (orchestrator = orders.orchestrator);
    watched = { ...watched, sagaCounts: () => running.countByStatus() };
  }
  stops.push(() => orders.stop());
  orderRoutes(router, orders, streams);
  sagaAdminRoutes(router, orders);
  relay = await infra.startRelay(store, broker, instrumentation);
} else {
  const history = new OrderHistoryView({ store, broker, logger, instrumentation });
  await history.start();
  readiness.add(`consumers:${service}`, () => history.isRunning() || Promise.reject(new Error('consumers are not running')));
  stops.push(() => history.stop());
  historyRoutes(router, history);
  viewAdminRoutes(router, history);
}
// Every instance sweeps its service's tables (and the in-database broker's): the deletes are
// idempotent, so two instances sweeping the same database only share the work.
const retention = startRetention({ stores: [store], broker, orchestrator }, logger);
metrics.watch(service, { ...watched, retention: () => retention.lastReport() });
storeAdminRoutes(router, { [service]: store });
if (relay) {
  const running = relay;
  readiness.add(`relay:${service}`, () => running.isRunning?.() !== false || Promise.reject(new Error('relay is not running')));
}
opsRoutes(router, { metrics, readiness });

// The launcher hands every instance the same token (its own, or the one it generated).
const server = createServiceServer(router, { logger, adminToken: config.adminToken!, limits: config.httpLimits });
// Instances are reached only through the gateway: loopback always, whatever HOST says.
const listening = await listen(server, { port: config.port, host: '127.0.0.1' }).catch(async (error: unknown) => {
  if (!(error instanceof AddressInUseError)) throw error;
  // Restarting would meet the same taken port: the launcher stops with this message instead.
  logger.error({ port: config.port }, error.message);
  await tellLauncher({ type: 'concord:fatal', code: error.code, message: `${service}#${process.env.INSTANCE ?? '1'}: ${error.message}` });
  process.exit(1);
});
await tellLauncher({ type: 'concord:listening', port: listening.port });
logger.info({ port: listening.port, infrastructure: infra.describe() }, `${service} ready`);

/** Stop taking requests, finish those in flight (5 s at most), then the relay's batch, the services and connections. */
async function stop(): Promise<void> {
  await stopProfile();
  if (!(await closeGracefully(server, { streams, timeoutMs: 5_000 }))) logger.warn({}, 'requests still running after 5 s were cut');
  await relay?.stop();
  await retention.stop();
  for (const s of stops.reverse()) await s();
  await broker.close();
  await store.close();
  await tracing?.shutdown();
}
guardProcess({ logger, stop, timeoutMs: 15_000 });
// Started by the launcher: when it goes away (however it died), so does this process.
process.on('disconnect', () => process.kill(process.pid, 'SIGTERM'));

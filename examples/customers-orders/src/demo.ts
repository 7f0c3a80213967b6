import { combineInstrumentation, createLogger, type Broker, type Instrumentation, type Logger, type Relay, type SqlStore } from '@concord/core';
import { PrometheusMetrics, Readiness, type OpenTelemetryTracing } from '@concord/observability';
import { AdminToken, closeGracefully, EventStreams, listen } from '@concord/http';
import type { DemoConfig } from './config.js';
import { CustomerService } from './customer-service/customer-service.js';
import { createDemoServer } from './http/http-server.js';
import { Infrastructure, type ServiceName } from './infrastructure.js';
import { OrderHistoryView } from './order-history/order-history-view.js';
import { OrderService } from './order-service/order-service.js';
import { startRetention } from './retention.js';

export interface RunningDemo {
  readonly url: string;
  /** Guards /admin/*; `consoleUrl` carries it when it was generated. */
  readonly adminToken: AdminToken;
  readonly consoleUrl: string;
  readonly customers: CustomerService;
  readonly orders: OrderService;
  readonly history: OrderHistoryView;
  readonly metrics: PrometheusMetrics;
  readonly readiness: Readiness;
  /** The open /orders/:id/events streams (`active` is their count). */
  readonly streams: EventStreams;
  /** Stops taking requests, lets in-flight ones finish (bounded), then stops relays, services and stores. */
  stop(): Promise<void>;
}

export interface DemoOptions {
  /** Traces sagas across the three services (see startTracingFromEnv); none by default. */
  readonly tracing?: OpenTelemetryTracing;
}

/**
 * The whole demo in one process: Customer, Order and Order History services, each with its own
 * database (SQLite files under `dataDir` by default, or databases on the server in
 * `databaseUrl`), joined by one broker, behind one HTTP server.
 */
export async function startDemo(config: DemoConfig, logger: Logger = createLogger({ name: 'demo' }), options: DemoOptions = {}): Promise<RunningDemo> {
  const infra = new Infrastructure(config, logger);
  const broker: Broker = await infra.openBroker();
  const names: ServiceName[] = ['customer-service', 'order-service', 'order-history'];
  const metrics = new PrometheusMetrics();
  const { tracing } = options;
  const instrumentations = Object.fromEntries(
    names.map((n) => [n, tracing ? combineInstrumentation(metrics.instrumentation(n), tracing.instrumentation(n)) : metrics.instrumentation(n)]),
  ) as Record<ServiceName, Instrumentation>;
  const instrumentation = (service: ServiceName) => instrumentations[service];
  const stores = Object.fromEntries(await Promise.all(names.map(async (n) => [n, await infra.openStore(n, instrumentation(n))] as const))) as Record<
    ServiceName,
    SqlStore
  >;
  const customers = new CustomerService({ store: stores['customer-service'], broker, mode: config.sagaMode, logger, instrumentation: instrumentation('customer-service') });
  const orders = new OrderService({
    store: stores['order-service'],
    broker,
    mode: config.sagaMode,
    logger,
    instrumentation: instrumentation('order-service'),
    ...(config.orderWatchPollMs ? { crossProcessPollMs: config.orderWatchPollMs } : {}),
  });
  const history = new OrderHistoryView({ store: stores['order-history'], broker, logger, instrumentation: instrumentation('order-history') });
  await customers.start();
  await orders.start();
  await history.start();
  const relays: Relay[] = [
    await infra.startRelay(stores['customer-service'], broker, instrumentation('customer-service')),
    await infra.startRelay(stores['order-service'], broker, instrumentation('order-service')),
  ];
  const readiness = new Readiness();
  for (const name of names) {
    const store = stores[name];
    metrics.watch(name, {
      outboxLag: () => store.outbox.lag(),
      deadLetters: async () => (await store.deadLetters.list({ limit: 10_000 })).length,
      ...(name === 'order-service' && orders.orchestrator ? { sagaCounts: () => orders.orchestrator!.countByStatus() } : {}),
      // One sweeper covers every service's tables here.
      retention: () => retention.lastReport(),
    });
    // A real round trip to each service's own database (the outbox lag query).
    readiness.add(`store:${name}`, () => store.outbox.lag());
  }
  readiness.add(`broker:${broker.name}`, () => broker.ping?.());
  const consumers: Record<ServiceName, { isRunning(): boolean }> = { 'customer-service': customers, 'order-service': orders, 'order-history': history };
  for (const [name, service] of Object.entries(consumers)) {
    readiness.add(`consumers:${name}`, () => {
      if (!service.isRunning()) throw new Error('consumers are not running');
    });
  }
  relays.forEach((relay, i) =>
    readiness.add(`relay:${names[i]}`, () => {
      if (relay.isRunning && !relay.isRunning()) throw new Error('relay is not running');
    }),
  );

  const retention = startRetention({ stores: Object.values(stores), broker, orchestrator: orders.orchestrator }, logger);

  const adminToken = config.adminToken ?? AdminToken.random();
  const streams = new EventStreams(config.streamLimits);
  const server = createDemoServer({ customers, orders, history, stores, streams, metrics, readiness }, { logger, adminToken, limits: config.httpLimits });
  const { port, host, url } = await listen(server, { port: config.port, host: config.host });
  logger.info({ port, host, dataDir: config.dataDir, sagaMode: config.sagaMode, infrastructure: infra.describe() }, `demo listening on ${url}`);

  return {
    url,
    adminToken,
    consoleUrl: adminToken.consoleUrl(url),
    customers,
    orders,
    history,
    streams,
    metrics,
    readiness,
    stop: async () => {
      if (!(await closeGracefully(server, { streams, timeoutMs: 5_000 }))) logger.warn({}, 'requests still running after 5 s were cut');
      for (const relay of relays) await relay.stop();
      await retention.stop();
      await history.stop();
      await orders.stop();
      await customers.stop();
      await broker.close();
      for (const store of Object.values(stores)) await store.close();
    },
  };
}

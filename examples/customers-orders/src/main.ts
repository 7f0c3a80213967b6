/**
 * `npm start`: the customers-and-orders demo in one process, by default on SQLite files under
 * CONCORD_DATA_DIR (default ./data), HTTP on PORT (default 8080).
 */
import { createLogger } from '@concord/core';
import { guardProcess } from '@concord/http';
import { readConfig } from './config.js';
import { startTracingFromEnv } from '@concord/observability';
import { startDemo } from './demo.js';

const logger = createLogger({ name: 'demo', level: process.env.CONCORD_LOG_LEVEL ?? 'info' });
let config;
try {
  config = readConfig();
} catch (error) {
  console.error(`concord demo: ${(error as Error).message}`);
  process.exit(2);
}
// Traces go out over OTLP only when OTEL_EXPORTER_OTLP_ENDPOINT is set; otherwise nothing is traced.
const tracing = startTracingFromEnv('concord-demo');
const demo = await startDemo(config, logger, tracing ? { tracing: tracing.tracing } : {});
const shown = demo.url.replace('//127.0.0.1:', '//localhost:');
// A generated admin token is shown once, in the console's address (as Jupyter does).
console.log(
  `Concord demo ready: ${shown}  (API docs ${shown}/swagger-ui/index.html)\n  operator console: ${demo.consoleUrl.replace('//127.0.0.1:', '//localhost:')}`,
);

// SIGTERM/SIGINT: stop taking requests, finish those in flight and the relays' batches, exit
// within 15 s. An unhandled rejection or uncaught exception is logged and stops the same way.
guardProcess({ logger, stop: () => demo.stop().then(() => tracing?.shutdown()), timeoutMs: 15_000 });

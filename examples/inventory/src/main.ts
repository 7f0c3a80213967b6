/**
 * `npm run start:inventory`: the Purchase service (MySQL, CONCORD_DATABASE_URL) and the Stock
 * service (Redis, CONCORD_REDIS_URL) in one process, HTTP on PORT (default 8080).
 */
import { createLogger } from '@concord/core';
import { guardProcess } from '@concord/http';
import { readConfig } from './config.js';
import { startInventory } from './inventory-app.js';

const logger = createLogger({ name: 'inventory', level: process.env.CONCORD_LOG_LEVEL ?? 'info' });
let config;
try {
  config = readConfig();
} catch (error) {
  console.error(`concord inventory: ${(error as Error).message}`);
  process.exit(2);
}
const app = await startInventory(config, logger);
const shown = (u: string) => u.replace('//127.0.0.1:', '//localhost:');
// A generated admin token is shown once, in the console's address (as Jupyter does).
console.log(`Concord inventory ready: ${shown(app.url)}\n  reconciliation console: ${shown(app.consoleUrl)}`);

// SIGTERM/SIGINT stop the service cleanly (bounded); an unhandled rejection or uncaught
// exception is logged and stops it the same way.
guardProcess({ logger, stop: () => app.stop() });

/**
 * `npm run start:food-delivery`: Order, Kitchen and Delivery in one process, by default on
 * SQLite files under CONCORD_DATA_DIR (default ./data), HTTP on PORT (default 8080).
 */
import { createLogger } from '@concord/core';
import { guardProcess } from '@concord/http';
import { readConfig } from './config.js';
import { startFoodDelivery } from './food-delivery.js';

const logger = createLogger({ name: 'food-delivery', level: process.env.CONCORD_LOG_LEVEL ?? 'info' });
let config;
try {
  config = readConfig();
} catch (error) {
  console.error(`concord food-delivery: ${(error as Error).message}`);
  process.exit(2);
}
const app = await startFoodDelivery(config, logger);
const shown = app.url.replace('//127.0.0.1:', '//localhost:');
console.log(`Concord food delivery ready: ${shown}`);
if (app.adminToken.secret) console.log(`  admin token for /admin/* (made at start; set CONCORD_ADMIN_TOKEN to choose one): ${app.adminToken.secret}`);

// SIGTERM/SIGINT stop the service cleanly (bounded); an unhandled rejection or uncaught
// exception is logged and stops it the same way.
guardProcess({ logger, stop: () => app.stop() });

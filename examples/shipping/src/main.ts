/**
 * `npm run start:shipping`: the Shipping service (SQLite under CONCORD_DATA_DIR by default,
 * HTTP on PORT, default 8080) and the simulated carrier on PORT + 1 unless CONCORD_CARRIER_URL
 * names another. CONCORD_CARRIER_LOSS (0..1) makes the carrier lose that share of answers.
 */
import { createLogger } from '@concord/core';
import { AdminToken, guardProcess } from '@concord/http';
import { readConfig, type ShippingConfig } from './config.js';
import { startShipping } from './shipping-app.js';

const logger = createLogger({ name: 'shipping', level: process.env.CONCORD_LOG_LEVEL ?? 'info' });
let config: ShippingConfig;
let adminToken: AdminToken;
try {
  config = readConfig();
  adminToken = AdminToken.fromEnv();
} catch (error) {
  console.error(`concord shipping: ${(error as Error).message}`);
  process.exit(2);
}
const app = await startShipping(config, logger, adminToken);
console.log(`Concord shipping ready: ${app.url}  (carrier ${app.carrierUrl})`);
// A generated token is shown once, as Jupyter does.
if (adminToken.generated) console.log(`  operator API token (Authorization: Bearer …): ${adminToken.secret}`);

// SIGTERM/SIGINT stop the service cleanly (bounded); an unhandled rejection or uncaught
// exception is logged and stops it the same way.
guardProcess({ logger, stop: () => app.stop() });

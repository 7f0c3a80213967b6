/**
 * `npm start`: the customers-and-orders demo in one process, by default on SQLite files under
 * CONCORD_DATA_DIR (default ./data), HTTP on PORT (default 8080).
 */
import { createLogger } from '@concord/core';
import { readConfig } from './config.js';
import { startDemo } from './demo.js';

const logger = createLogger({ name: 'demo', level: process.env.CONCORD_LOG_LEVEL ?? 'info' });
let config;
try {
  config = readConfig();
} catch (error) {
  console.error(`concord demo: ${(error as Error).message}`);
  process.exit(2);
}
const demo = await startDemo(config, logger);
const shown = demo.url.replace('//127.0.0.1:', '//localhost:');
// A generated admin token is shown once, in the console's address (as Jupyter does).
console.log(`Concord demo ready: ${shown}  (API docs ${shown}/swagger-ui/index.html)\n  operator console: ${demo.consoleUrl.replace('//127.0.0.1:', '//localhost:')}`);

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) process.exit(1);
    stopping = true;
    demo.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'stop failed');
        process.exit(1);
      },
    );
  });
}

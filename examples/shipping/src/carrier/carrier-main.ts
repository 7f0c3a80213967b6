/**
 * The simulated carrier as a process of its own: `PORT`, `CONCORD_DATA_DIR` (labels in
 * `carrier.db` there), `CONCORD_CARRIER_LOSS` (0..1), `HOST` (default 127.0.0.1).
 */
import { join } from 'node:path';
import { createCarrierServer } from './carrier-server.js';
import { LabelBook } from './label-book.js';

const port = Number(process.env.PORT ?? 8081);
const loss = Number(process.env.CONCORD_CARRIER_LOSS ?? 0);
if (!Number.isInteger(port) || port < 0 || port > 65_535) {
  console.error(`carrier: PORT must be a port number, got "${process.env.PORT}"`);
  process.exit(2);
}
if (!(loss >= 0 && loss <= 1)) {
  console.error(
    `carrier: CONCORD_CARRIER_LOSS must be between 0 and 1, got "${process.env.CONCORD_CARRIER_LOSS}"`,
  );
  process.exit(2);
}
const labels = new LabelBook(join(process.env.CONCORD_DATA_DIR ?? './data', 'carrier.db'));
const server = createCarrierServer({ labels, loss });
const host = process.env.HOST ?? '127.0.0.1';

// A carrier of a caller killed a moment ago may still hold the port: try again for a while.
for (let tries = 0; ; tries++) {
  const failed = await new Promise<Error | undefined>((resolve) => {
    server.once('error', resolve);
    server.listen(port, host, () => resolve(undefined));
  });
  if (!failed) break;
  if ((failed as NodeJS.ErrnoException).code !== 'EADDRINUSE' || tries >= 100) {
    console.error(`carrier: cannot listen on ${host}:${port}: ${failed.message}`);
    process.exit(1);
  }
  await new Promise((r) => setTimeout(r, 100));
}
const address = server.address();
console.log(
  `carrier listening on http://${host}:${typeof address === 'object' && address ? address.port : port} (loss ${loss})`,
);
process.send?.({ carrierPort: typeof address === 'object' && address ? address.port : port });

function stop(): void {
  server.closeAllConnections();
  server.close(() => {
    labels.close();
    process.exit(0);
  });
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, stop);
// Started by the shipping service: when it goes away (even by SIGKILL), so does the carrier.
process.on('disconnect', stop);

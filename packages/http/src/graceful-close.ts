import type { Server } from 'node:http';
import type { EventStreams } from './event-streams.js';

/**
 * Stops a server the gentle way, within a bound: no new connections, idle keep-alive
 * connections closed, event streams ended (new ones refused), requests in flight allowed to
 * finish; whatever is still open after `timeoutMs` is cut. Resolves `true` when everything
 * finished in time.
 */
export async function closeGracefully(server: Server, options: { streams?: EventStreams | undefined; timeoutMs?: number } = {}): Promise<boolean> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  options.streams?.closeAll(true);
  if (!server.listening) {
    server.closeAllConnections();
    return true;
  }
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  // A connection becomes idle when its in-flight response ends: close those as they appear.
  server.closeIdleConnections();
  const sweeper = setInterval(() => server.closeIdleConnections(), 50);
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
  try {
    const inTime = await Promise.race([closed.then(() => true), timedOut]);
    if (!inTime) {
      server.closeAllConnections();
      await closed;
    }
    return inTime;
  } finally {
    clearInterval(sweeper);
    clearTimeout(timer);
  }
}

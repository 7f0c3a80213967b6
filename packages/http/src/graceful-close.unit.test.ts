import { silentLogger } from '@concord/core';
import { describe, expect, it } from 'vitest';
import { AdminToken } from './admin-token.js';
import { closeGracefully } from './graceful-close.js';
import { createHttpServer, listen } from './http-server.js';
import { Router } from './router.js';

describe('closeGracefully', () => {
  it('lets a request in flight finish, refuses new connections, and cuts what overruns the bound', async () => {
    let release: (() => void) | undefined;
    const router = new Router()
      .on('GET', '/slow', async () => {
        await new Promise<void>((r) => (release = r));
        return { finished: true };
      })
      .on('GET', '/stuck', () => new Promise(() => {}));
    const server = createHttpServer({ router, logger: silentLogger, adminToken: AdminToken.random() });
    const { url } = await listen(server, { port: 0 });
    const inFlight = fetch(`${url}/slow`).then((r) => r.json());
    while (!release) await new Promise((r) => setTimeout(r, 5));
    const closing = closeGracefully(server, { timeoutMs: 5_000 });
    await expect(fetch(`${url}/slow`)).rejects.toThrow();
    release();
    expect(await inFlight).toEqual({ finished: true });
    expect(await closing).toBe(true);

    const second = createHttpServer({ router, logger: silentLogger, adminToken: AdminToken.random() });
    const other = await listen(second, { port: 0 });
    const stuck = fetch(`${other.url}/stuck`).then(() => 'answered', () => 'cut');
    await new Promise((r) => setTimeout(r, 50));
    expect(await closeGracefully(second, { timeoutMs: 200 })).toBe(false);
    expect(await stuck).toBe('cut');
  });
});

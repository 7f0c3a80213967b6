/**
 * `npx tsx --conditions=development packages/http/examples/hello-server.ts`
 * A public route, an admin route and the token printed once.
 */
import { createLogger } from '@concord/core';
import { AdminToken, createHttpServer, HttpError, intParam, listen, Router } from '@concord/http';

const notes = new Map<number, string>();
const router = new Router()
  .on('GET', '/notes/:id', async (ctx) => {
    const id = intParam(ctx.params, 'id');
    const text = notes.get(id);
    if (text === undefined) throw new HttpError(404, 'NOT_FOUND', `note ${id} not found`);
    return { id, text };
  })
  // Needs `Authorization: Bearer <token>`; ctx.actor is the token's name, never the body's word.
  .admin('POST', '/admin/notes', async (ctx) => {
    const body = (await ctx.body()) as { text?: unknown } | undefined;
    if (typeof body?.text !== 'string') throw new HttpError(400, 'VALIDATION_FAILED', 'text: a string is required');
    const id = notes.size + 1;
    notes.set(id, `${body.text} (by ${ctx.actor})`);
    return { id };
  });

const adminToken = AdminToken.fromEnv(process.env);
const server = createHttpServer({ router, logger: createLogger({ name: 'hello' }), adminToken });
const { url } = await listen(server, { port: Number(process.env.PORT ?? 0), host: process.env.HOST });
console.log(`listening on ${url}; admin token: ${adminToken.generated ? adminToken.secret : '(from CONCORD_ADMIN_TOKEN)'}`);

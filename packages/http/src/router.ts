import type { IncomingMessage, ServerResponse } from 'node:http';
import { hasControlCharacters } from './control-characters.js';
import { HttpError } from './http-error.js';

export interface RouteContext {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  /** Path parameters, percent-decoded (bad encoding was already refused with 400). */
  readonly params: Readonly<Record<string, string>>;
  readonly query: URLSearchParams;
  /** Who is acting: the admin token's name on `.admin` routes, undefined on public ones. */
  readonly actor: string | undefined;
  /** The parsed JSON body (undefined when empty); 400 on malformed JSON, 413 over the size limit. */
  body(): Promise<unknown>;
}

/** What an `.admin` route's handler gets: the actor is always known. */
export interface AdminRouteContext extends RouteContext {
  readonly actor: string;
}

/** A route returns a JSON body (status 200) or handles the response itself (returns undefined). */
export type RouteHandler<C extends RouteContext = RouteContext> = (ctx: C) => Promise<unknown>;

interface Route {
  readonly method: string;
  readonly pattern: RegExp;
  readonly names: readonly string[];
  readonly admin: boolean;
  readonly handler: RouteHandler<AdminRouteContext>;
}

export interface RouteMatch {
  readonly handler: RouteHandler<AdminRouteContext>;
  readonly params: Record<string, string>;
  /** True for a route registered with `.admin`: the server checks the bearer token first. */
  readonly admin: boolean;
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * `/orders/:id` patterns, 404 for unknown paths, 405 for a wrong method. Routes registered with
 * `.admin` need `Authorization: Bearer <token>`; their handler's `ctx.actor` is the token's name.
 */
export class Router {
  private readonly routes: Route[] = [];

  on(method: string, path: string, handler: RouteHandler): this {
    return this.add(method, path, handler as RouteHandler<AdminRouteContext>, false);
  }

  admin(method: string, path: string, handler: RouteHandler<AdminRouteContext>): this {
    return this.add(method, path, handler, true);
  }

  private add(method: string, path: string, handler: RouteHandler<AdminRouteContext>, admin: boolean): this {
    const names: string[] = [];
    const source = path
      .split(/(:[a-zA-Z]+)/)
      .map((part) => {
        if (!part.startsWith(':')) return escapeRegExp(part);
        names.push(part.slice(1));
        return '([^/]+)';
      })
      .join('');
    this.routes.push({ method: method.toUpperCase(), pattern: new RegExp(`^${source}/?$`), names, admin, handler });
    return this;
  }

  /** The route for a raw (still percent-encoded) path; throws 404, 405 or 400 (bad encoding). */
  match(method: string, rawPath: string): RouteMatch {
    let pathMatched = false;
    for (const route of this.routes) {
      const m = route.pattern.exec(rawPath);
      if (!m) continue;
      pathMatched = true;
      if (route.method !== method && !(method === 'HEAD' && route.method === 'GET')) continue;
      const params: Record<string, string> = {};
      route.names.forEach((name, i) => (params[name] = decodeParam(name, m[i + 1]!)));
      return { handler: route.handler, params, admin: route.admin };
    }
    const shown = rawPath.slice(0, 200);
    if (pathMatched) throw new HttpError(405, 'METHOD_NOT_ALLOWED', `${method} is not allowed on ${shown}`);
    throw new HttpError(404, 'NOT_FOUND', `no route for ${method} ${shown}`);
  }
}

function decodeParam(name: string, raw: string): string {
  let value: string;
  try {
    value = decodeURIComponent(raw);
  } catch {
    throw new HttpError(400, 'INVALID_PATH', `path parameter ${name} has bad percent-encoding`);
  }
  if (hasControlCharacters(value)) throw new HttpError(400, 'INVALID_PATH', `path parameter ${name} contains control characters`);
  return value;
}

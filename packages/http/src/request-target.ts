import { HttpError } from './http-error.js';

export interface RequestTarget {
  /** The path as sent, still percent-encoded: routes match on it, parameters are decoded after. */
  readonly path: string;
  readonly query: URLSearchParams;
  /** Path and query as sent (origin-form), for forwarding unchanged. */
  readonly pathAndQuery: string;
}

/**
 * Parses a request line's target without ever throwing anything but a 400: origin-form
 * (`/a/b?c`) is split by hand (`new URL('//a:99999/', base)` throws, as would any authority-looking
 * path), absolute-form (`http://host/a`) goes through `URL` inside a try, anything else
 * (`*`, `host:port`) is refused.
 */
export function parseRequestTarget(url: string | undefined): RequestTarget {
  if (url?.startsWith('/')) {
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const hash = path.indexOf('#');
    return { path: hash < 0 ? path : path.slice(0, hash), query: new URLSearchParams(q < 0 ? '' : url.slice(q + 1)), pathAndQuery: url };
  }
  if (url && /^https?:\/\//i.test(url)) {
    try {
      const parsed = new URL(url);
      return { path: parsed.pathname, query: parsed.searchParams, pathAndQuery: parsed.pathname + parsed.search };
    } catch {
      throw new HttpError(400, 'INVALID_URL', 'the request target is not a valid URL');
    }
  }
  throw new HttpError(400, 'INVALID_URL', 'the request target must be a path starting with / or an absolute http URL');
}

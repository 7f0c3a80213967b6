export { AdminToken } from './admin-token.js';
export { HttpError, toHttpError, zodMessage, errorBody } from './http-error.js';
export { BODYLESS_METHODS, createHttpServer, createRequestServer, listen, type RequestHandler, type HttpLimits, type HttpServerOptions, type Listening } from './http-server.js';
export { intParam, idempotencyKey, sendJson } from './params.js';
export { checkBodyHeaders, readBoundedBody, readJsonBody, DEFAULT_MAX_BODY_BYTES } from './request-body.js';
export { parseRequestTarget, type RequestTarget } from './request-target.js';
export { Router, type AdminRouteContext, type RouteContext, type RouteHandler, type RouteMatch } from './router.js';
export { findStaticFile, sendStaticFile, type StaticMounts } from './static-files.js';

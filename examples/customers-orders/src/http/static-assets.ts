import type { ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import type { Router, StaticMounts } from '@concord/http';
import { consoleMounts } from '@concord/console';

const require = createRequire(import.meta.url);
const swaggerDir = dirname(require.resolve('swagger-ui-dist/package.json'));

const SWAGGER_INDEX = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Concord demo API</title>
<link rel="stylesheet" href="./swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="./swagger-ui-bundle.js"></script>
<script>window.ui = SwaggerUIBundle({ url: '/openapi.json', dom_id: '#swagger-ui' });</script>
</body></html>`;

/** Swagger UI (from swagger-ui-dist) and the operator console (@concord/console). */
export const staticMounts: StaticMounts = { '/swagger-ui': swaggerDir, ...consoleMounts('/console') };

/** Swagger UI's index page, pointed at /openapi.json (swagger-ui-dist's own points at a demo petstore). */
export function swaggerIndexHtml(res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-length': Buffer.byteLength(SWAGGER_INDEX) });
  res.end(SWAGGER_INDEX);
}

export function swaggerIndexRoutes(router: Router): void {
  const page = async (ctx: { res: ServerResponse }) => {
    swaggerIndexHtml(ctx.res);
    return undefined;
  };
  router.on('GET', '/swagger-ui', page).on('GET', '/swagger-ui/index.html', page);
}

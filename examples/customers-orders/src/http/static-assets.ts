import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, normalize } from 'node:path';
import type { ServerResponse } from 'node:http';
import { fileURLToPath } from 'node:url';
import { HttpError } from './http-errors.js';

const require = createRequire(import.meta.url);
const swaggerDir = dirname(require.resolve('swagger-ui-dist/package.json'));
const consoleDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'console');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.png': 'image/png',
  '.map': 'application/json',
};

const SWAGGER_INDEX = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Concord demo API</title>
<link rel="stylesheet" href="./swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="./swagger-ui-bundle.js"></script>
<script>window.ui = SwaggerUIBundle({ url: '/openapi.json', dom_id: '#swagger-ui' });</script>
</body></html>`;

async function sendFile(res: ServerResponse, dir: string, name: string): Promise<void> {
  const path = normalize(join(dir, name));
  if (!path.startsWith(dir)) throw new HttpError(404, 'NOT_FOUND', 'no such file');
  const ext = path.slice(path.lastIndexOf('.'));
  let data: Buffer;
  try {
    data = await readFile(path);
  } catch {
    throw new HttpError(404, 'NOT_FOUND', `no such file ${name}`);
  }
  res.writeHead(200, { 'content-type': TYPES[ext] ?? 'application/octet-stream', 'content-length': data.length });
  res.end(data);
}

/** Swagger UI (from swagger-ui-dist) pointed at /openapi.json. */
export async function serveSwagger(res: ServerResponse, file: string): Promise<void> {
  if (file === '' || file === 'index.html') {
    res.writeHead(200, { 'content-type': TYPES['.html']! });
    res.end(SWAGGER_INDEX);
    return;
  }
  await sendFile(res, swaggerDir, file);
}

/** The operator console's static page. */
export async function serveConsole(res: ServerResponse, file: string): Promise<void> {
  await sendFile(res, consoleDir, file === '' ? 'index.html' : file);
}

import { readFile, stat } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { extname, join, resolve, sep } from 'node:path';
import { HttpError } from './http-error.js';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
};

/** URL prefix (`/console`) → directory whose files it serves (`index.html` for the prefix itself). */
export type StaticMounts = Readonly<Record<string, string>>;

/** The mount and file name a GET path falls under, or undefined. */
export function findStaticFile(mounts: StaticMounts, rawPath: string): { dir: string; file: string } | undefined {
  for (const [prefix, dir] of Object.entries(mounts)) {
    if (rawPath !== prefix && !rawPath.startsWith(`${prefix}/`)) continue;
    let file: string;
    try {
      file = decodeURIComponent(rawPath.slice(prefix.length + 1));
    } catch {
      throw new HttpError(400, 'INVALID_PATH', 'the request path has bad percent-encoding');
    }
    return { dir, file: file === '' ? 'index.html' : file };
  }
  return undefined;
}

/** Sends one file from `dir`; 404 for anything outside it, missing, or not a regular file. */
export async function sendStaticFile(res: ServerResponse, dir: string, file: string, headOnly: boolean): Promise<void> {
  const root = resolve(dir);
  const path = resolve(join(root, file));
  if (file.includes('\0') || !path.startsWith(root + sep)) throw new HttpError(404, 'NOT_FOUND', 'no such file');
  let data: Buffer;
  try {
    if (!(await stat(path)).isFile()) throw new Error('not a file');
    data = await readFile(path);
  } catch {
    throw new HttpError(404, 'NOT_FOUND', `no such file ${file.slice(0, 200)}`);
  }
  res.writeHead(200, { 'content-type': TYPES[extname(path)] ?? 'application/octet-stream', 'content-length': data.length });
  res.end(headOnly ? undefined : data);
}

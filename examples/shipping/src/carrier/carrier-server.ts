import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { LabelBook } from './label-book.js';

export interface CarrierOptions {
  readonly labels: LabelBook;
  /** 0..1: the share of POST answers dropped after the work is done, as a network would. */
  readonly loss: number;
  readonly random?: () => number;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}
const error = (res: ServerResponse, status: number, code: string, message: string) =>
  send(res, status, { error: { code, message } });

async function readJson(req: IncomingMessage): Promise<unknown> {
  let text = '';
  for await (const chunk of req) {
    text += String(chunk);
    if (text.length > 65_536) throw new Error('body too large');
  }
  return text.trim() === '' ? undefined : (JSON.parse(text) as unknown);
}

/**
 * A simulated carrier API: `POST /labels {"key"}` (one label per key), `POST /labels/:id/void`,
 * `GET /labels`. It loses a share of its POST answers after doing the work, by cutting the
 * connection, which is what makes a caller without intents and keys leak labels.
 */
export function createCarrierServer(options: CarrierOptions): Server {
  const random = options.random ?? Math.random;
  const answer = (res: ServerResponse, body: unknown) => {
    if (random() < options.loss) res.socket?.destroy();
    else send(res, 200, body);
  };
  return createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://carrier').pathname.replace(/\/$/, '');
    const handle = async () => {
      if (req.method === 'GET' && path === '/labels')
        return send(res, 200, { labels: options.labels.list() });
      if (req.method === 'GET' && path === '/health') return send(res, 200, { status: 'ok' });
      if (req.method === 'POST' && path === '/labels') {
        let body: unknown;
        try {
          body = await readJson(req);
        } catch {
          return error(res, 400, 'INVALID_JSON', 'request body is not valid JSON');
        }
        const key = (body as { key?: unknown } | undefined)?.key;
        if (typeof key !== 'string' || key.length === 0 || key.length > 190) {
          return error(res, 400, 'VALIDATION_FAILED', 'key must be a string of 1-190 characters');
        }
        return answer(res, { labelId: options.labels.createOrGet(key).labelId });
      }
      const voiding = /^\/labels\/([^/]+)\/void$/.exec(path);
      if (req.method === 'POST' && voiding) {
        const label = options.labels.void(decodeURIComponent(voiding[1]!));
        if (!label) return error(res, 404, 'NOT_FOUND', `label ${voiding[1]} not found`);
        return answer(res, { labelId: label.labelId, voided: true });
      }
      return error(res, 404, 'NOT_FOUND', `no route for ${req.method} ${path}`);
    };
    handle().catch(() => error(res, 500, 'INTERNAL', 'internal error'));
  });
}

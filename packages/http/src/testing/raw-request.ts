import { connect } from 'node:net';

export interface RawAnswer {
  /** The status code of the first answer, or undefined when the server closed without one. */
  readonly status: number | undefined;
  /** Everything the server sent. */
  readonly text: string;
  /** The first JSON object in the answer's body, when there is one. */
  readonly json: { error?: { code: string; message: string } } & Record<string, unknown> | undefined;
  /** True when the server closed the connection (rather than the client giving up). */
  readonly closedByServer: boolean;
}

/**
 * Sends bytes on a fresh TCP connection and collects the answer: for requests no HTTP client
 * will send (malformed request lines, absolute-form targets, oversized headers, slow clients).
 * `chunks` with `delayMs` between them simulate a slow client; the socket is given up after
 * `timeoutMs`, or as soon as one answer with a content-length is complete.
 */
export function rawRequest(
  port: number,
  data: string | Buffer | ReadonlyArray<string | Buffer>,
  options: { delayMs?: number; timeoutMs?: number; host?: string; /** Half-close after the last chunk. */ end?: boolean } = {},
): Promise<RawAnswer> {
  const chunks = Array.isArray(data) ? data : [data as string | Buffer];
  return new Promise((resolve) => {
    const socket = connect(port, options.host ?? '127.0.0.1');
    const received: Buffer[] = [];
    let closedByServer = false;
    let finished = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      socket.destroy();
      const text = Buffer.concat(received).toString('utf8');
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1];
      const start = text.indexOf('\r\n\r\n{');
      let json: RawAnswer['json'];
      if (start >= 0) {
        const body = text.slice(start + 4);
        try {
          json = JSON.parse(body.slice(0, body.lastIndexOf('}') + 1));
        } catch {
          json = undefined;
        }
      }
      resolve({ status: status ? Number(status) : undefined, text, json, closedByServer });
    };
    const timer = setTimeout(finish, options.timeoutMs ?? 5_000);
    socket.on('data', (chunk: Buffer) => {
      received.push(chunk);
      // A complete answer with a content-length: no need to wait for keep-alive to time out.
      const all = Buffer.concat(received);
      const end = all.indexOf('\r\n\r\n');
      const head = all.subarray(0, end).toString('latin1');
      const length = /\r\ncontent-length: *(\d+)/i.exec(head)?.[1];
      const closing = /\r\nconnection: *close/i.test(head); // then wait for the server to close
      if (end >= 0 && length !== undefined && !closing && all.length - end - 4 >= Number(length)) finish();
    });
    socket.on('end', () => {
      closedByServer = true;
      finish();
    });
    socket.on('close', finish);
    socket.on('error', finish);
    socket.once('connect', async () => {
      for (const [i, chunk] of chunks.entries()) {
        if (i > 0 && options.delayMs) await new Promise((r) => setTimeout(r, options.delayMs));
        if (finished || socket.destroyed) return;
        socket.write(chunk);
      }
      if (options.end && !finished) socket.end();
    });
  });
}

import { CliError, ExitCode } from './cli-error.js';

export interface AdminClientOptions {
  /** The service's base URL, e.g. http://127.0.0.1:8080. */
  readonly url: string;
  /** The operator token (CONCORD_ADMIN_TOKEN of the service). */
  readonly token: string | undefined;
  /** Milliseconds before a request is given up; long work (rebuilds, replays) may need more. */
  readonly timeoutMs?: number;
}

interface ErrorBody {
  readonly error?: { readonly code?: string; readonly message?: string };
}

/**
 * The operator API over HTTP, and nothing else: the CLI works against any running service
 * that serves /admin/*, whatever its store or broker. Every failure becomes a CliError whose
 * message fits on one line and says what to do.
 */
export class AdminClient {
  readonly baseUrl: URL;

  constructor(private readonly options: AdminClientOptions) {
    try {
      this.baseUrl = new URL(options.url);
    } catch {
      throw new CliError(`--url "${options.url}" is not a URL (expected e.g. http://127.0.0.1:8080)`, ExitCode.USAGE);
    }
  }

  get<T>(path: string): Promise<T> {
    return this.request<T>('GET', path);
  }

  post<T>(path: string, body: unknown = {}): Promise<T> {
    return this.request<T>('POST', path, body);
  }

  private async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const url = new URL(path, this.baseUrl);
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.options.token) headers.authorization = `Bearer ${this.options.token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers,
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 30_000),
      });
    } catch (error) {
      throw unreachable(this.baseUrl, error);
    }
    const text = await res.text();
    if (!res.ok) throw refused(res.status, text, method, url);
    try {
      return (text === '' ? undefined : JSON.parse(text)) as T;
    } catch {
      throw new CliError(`${method} ${url.pathname} answered ${res.status} with a body that is not JSON: is ${this.baseUrl.origin} a Concord service?`, ExitCode.REFUSED);
    }
  }
}

function unreachable(base: URL, error: unknown): CliError {
  const cause = (error as { cause?: { code?: string } }).cause;
  const name = (error as Error).name;
  if (name === 'TimeoutError') return new CliError(`${base.origin} did not answer in time`, ExitCode.UNREACHABLE);
  if (cause?.code === 'ECONNREFUSED') {
    return new CliError(`cannot reach ${base.origin}: connection refused (is the service running? set --url or CONCORD_URL)`, ExitCode.UNREACHABLE);
  }
  if (cause?.code === 'ENOTFOUND') return new CliError(`cannot reach ${base.origin}: unknown host`, ExitCode.UNREACHABLE);
  return new CliError(`cannot reach ${base.origin}: ${cause?.code ?? (error as Error).message}`, ExitCode.UNREACHABLE);
}

function refused(status: number, text: string, method: string, url: URL): CliError {
  let parsed: ErrorBody | undefined;
  try {
    parsed = JSON.parse(text) as ErrorBody;
  } catch {
    parsed = undefined;
  }
  const code = parsed?.error?.code;
  const message = oneLine(parsed?.error?.message ?? text) || `HTTP ${status}`;
  switch (status) {
    case 401:
      return new CliError(`unauthorized: the service refused the token (set --token or CONCORD_ADMIN_TOKEN to the service's admin token)`, ExitCode.UNAUTHORIZED, status, code);
    case 403:
      return new CliError(`forbidden: ${message}`, ExitCode.UNAUTHORIZED, status, code);
    case 404:
      return new CliError(`not found: ${message}`, ExitCode.REFUSED, status, code);
    case 409:
      return new CliError(`refused (conflict): ${message}`, ExitCode.REFUSED, status, code);
    default:
      return new CliError(`${method} ${url.pathname} failed with ${status}${code ? ` ${code}` : ''}: ${message}`, ExitCode.REFUSED, status, code);
  }
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim().slice(0, 300);
}

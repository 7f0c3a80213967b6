/** A JSON answer as tests read it: any field, checked by the assertions themselves. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = any;

/** A small JSON client for the inventory API, as an outside caller would use it. */
export class InventoryClient {
  constructor(
    readonly baseUrl: string,
    private readonly token?: string,
  ) {}

  async call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: Json }> {
    const res = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: {
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
        ...headers,
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    return { status: res.status, body: text && res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text };
  }

  async ok(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<Json> {
    const { status, body: answer } = await this.call(method, path, body, headers);
    if (status !== 200) throw new Error(`${method} ${path} answered ${status}: ${JSON.stringify(answer)}`);
    return answer;
  }
}

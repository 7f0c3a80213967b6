/** A tiny client for the food-delivery API, as the tests use it. */
export class FoodClient {
  constructor(
    readonly url: string,
    readonly adminToken?: string,
  ) {}

  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  async call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
    const auth: Record<string, string> = this.adminToken && path.startsWith('/admin') ? { authorization: `Bearer ${this.adminToken}` } : {};
    const res = await fetch(this.url + path, {
      method,
      headers: { 'content-type': 'application/json', ...auth, ...headers },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    const text = await res.text();
    try {
      return { status: res.status, body: text ? JSON.parse(text) : undefined };
    } catch {
      return { status: res.status, body: text };
    }
  }

  async ok(method: string, path: string, body?: unknown, headers?: Record<string, string>) {
    const r = await this.call(method, path, body, headers);
    if (r.status !== 200) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  }

  /** Reads the order's events stream until the server ends it (the order is settled). */
  async settle(orderId: number): Promise<{ state: string; rejectionReason: string | null; agentId: number | null; states: string[] }> {
    const res = await fetch(`${this.url}/orders/${orderId}/events`);
    if (res.status !== 200) throw new Error(`events: ${res.status}`);
    const events = (await res.text())
      .split('\n')
      .filter((l) => l.startsWith('data: '))
      .map((l) => JSON.parse(l.slice(6)) as { state: string; rejectionReason: string | null; agentId: number | null });
    const last = events.at(-1)!;
    return { ...last, states: events.map((e) => e.state) };
  }
}

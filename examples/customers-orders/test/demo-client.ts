/** A tiny client for the demo's HTTP API, as the end-to-end tests and the README use it. */
export class DemoClient {
  /** `adminToken` is sent as `Authorization: Bearer` on every /admin call. */
  constructor(
    readonly url: string,
    readonly adminToken?: string,
  ) {}

  async call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
    const auth: Record<string, string> = this.adminToken && path.startsWith('/admin') ? { authorization: `Bearer ${this.adminToken}` } : {};
    const res = await fetch(this.url + path, {
      method,
      headers: { 'content-type': 'application/json', ...auth, ...headers },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    const text = await res.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = text;
    }
    return { status: res.status, body: json as Record<string, unknown> & Record<string, any> }; // eslint-disable-line @typescript-eslint/no-explicit-any
  }

  async createCustomer(name: string, amount: string): Promise<number> {
    const r = await this.call('POST', '/customers', { name, creditLimit: { amount } });
    if (r.status !== 200) throw new Error(`create customer: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body.customerId as number;
  }

  async createOrder(customerId: number, amount: string, key?: string): Promise<number> {
    const r = await this.call('POST', '/orders', { customerId, orderTotal: { amount } }, key ? { 'Idempotency-Key': key } : {});
    if (r.status !== 200) throw new Error(`create order: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body.orderId as number;
  }

  async order(orderId: number) {
    return (await this.call('GET', `/orders/${orderId}`)).body as { orderId: number; orderState: string; rejectionReason: string | null; version: number };
  }

  /** Waits for the final state through the server-sent events stream (no polling). */
  async awaitFinal(orderId: number): Promise<{ orderState: string; rejectionReason: string | null; states: string[] }> {
    // A connection that drops before the answer (a kept-alive socket the server closed just as
    // it was reused) is opened again, as EventSource does.
    const open = async () => {
      for (let attempt = 1; ; attempt++) {
        try {
          return await fetch(`${this.url}/orders/${orderId}/events`);
        } catch (error) {
          if (attempt >= 3) throw error;
          await new Promise((r) => setTimeout(r, 50 * attempt));
        }
      }
    };
    let res = await open();
    // Over the server's stream limits (429/503): back off and come again, as EventSource does.
    for (let wait = 50; (res.status === 429 || res.status === 503) && wait < 10_000; wait *= 2) {
      await res.body?.cancel();
      await new Promise((r) => setTimeout(r, wait));
      res = await open();
    }
    if (res.status !== 200) throw new Error(`events: ${res.status}`);
    const text = await res.text();
    const events = text
      .split('\n')
      .filter((l) => l.startsWith('data: '))
      .map((l) => JSON.parse(l.slice(6)) as { orderState: string; rejectionReason: string | null });
    const last = events.at(-1)!;
    return { orderState: last.orderState, rejectionReason: last.rejectionReason, states: events.map((e) => e.orderState) };
  }
}

export async function waitUntil<T>(check: () => Promise<T | undefined | false>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check().catch(() => undefined);
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

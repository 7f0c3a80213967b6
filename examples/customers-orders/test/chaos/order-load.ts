/**
 * A steady order load through the gateway, as clients would send it: each order has its own
 * Idempotency-Key and is retried with it until answered (a killed or stopped process, a
 * restarting server), then followed to its final state; some approved orders are cancelled.
 * The number of workers bounds the orders in flight, so the load follows what the system can do.
 */
import type { ClientRecord } from './invariants.js';

export interface LoadOptions {
  readonly url: string;
  readonly customerIds: readonly number[];
  readonly workers: number;
  /** Stop placing new orders then. */
  readonly until: number;
  /** Stop retrying unanswered ones then. */
  readonly giveUpAt: number;
  readonly cancelShare: number;
  readonly keyPrefix: string;
}

export interface LoadResult extends ClientRecord {
  /** Answers other than 200 that no retry explains (4xx on a valid request): each is a violation. */
  readonly unexpected: string[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function call(url: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  try {
    const res = await fetch(url + path, {
      method,
      headers: { 'content-type': 'application/json', ...headers },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(45_000),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : {}) as Record<string, unknown> };
  } catch {
    return { status: 0, body: {} };
  }
}

/** Follows an order until it is final (or the time runs out): polling, since streams die with their process. */
async function finalState(url: string, orderId: number, deadline: number): Promise<string | undefined> {
  for (let wait = 150; Date.now() < deadline; wait = Math.min(wait * 2, 1_000)) {
    const r = await call(url, 'GET', `/orders/${orderId}`);
    const state = r.body.orderState as string | undefined;
    if (r.status === 200 && state && state !== 'PENDING') return state;
    await sleep(wait);
  }
  return undefined;
}

export async function runOrderLoad(o: LoadOptions): Promise<LoadResult> {
  const answered = new Map<string, number>();
  const unanswered = new Set<string>();
  const cancelled = new Set<number>();
  const unexpected: string[] = [];
  let n = 0;

  const place = async (key: string, customerId: number, amount: string): Promise<number | undefined> => {
    for (let wait = 200; ; wait = Math.min(wait * 2, 3_000)) {
      const r = await call(o.url, 'POST', '/orders', { customerId, orderTotal: { amount } }, { 'idempotency-key': key });
      if (r.status === 200) return r.body.orderId as number;
      // 0 (no answer), 429 and 5xx (503 COMMIT_OUTCOME_UNKNOWN among them): the outcome is
      // unknown or the system is busy; the key makes a retry safe.
      if (r.status !== 0 && r.status !== 429 && r.status < 500) {
        unexpected.push(`POST /orders (${key}) answered ${r.status} ${JSON.stringify(r.body).slice(0, 200)}`);
        return undefined;
      }
      if (Date.now() > o.giveUpAt) return undefined;
      await sleep(wait);
    }
  };

  const worker = async () => {
    while (Date.now() < o.until) {
      const key = `${o.keyPrefix}-${++n}`;
      // One order in fifty names a customer nobody created: its saga compensates (UNKNOWN_CUSTOMER).
      const customerId = Math.random() < 0.02 ? 999_999_999 : o.customerIds[Math.floor(Math.random() * o.customerIds.length)]!;
      const amount = `${1 + Math.floor(Math.random() * 60)}.${String(Math.floor(Math.random() * 100)).padStart(2, '0')}`;
      unanswered.add(key);
      const orderId = await place(key, customerId, amount);
      if (orderId === undefined) continue;
      unanswered.delete(key);
      answered.set(key, orderId);
      const state = await finalState(o.url, orderId, Math.max(o.until, Date.now() + 30_000));
      if (state === 'APPROVED' && Math.random() < o.cancelShare) {
        const r = await call(o.url, 'POST', `/orders/${orderId}/cancel`);
        if (r.status === 200) cancelled.add(orderId);
        // 409 cannot be (the order is APPROVED and nobody else cancels it); 0/5xx leave the outcome unknown.
        else if (r.status !== 0 && r.status !== 429 && r.status < 500) unexpected.push(`cancel ${orderId} answered ${r.status} ${JSON.stringify(r.body).slice(0, 200)}`);
      }
    }
  };
  await Promise.all(Array.from({ length: o.workers }, worker));
  return { answered, unanswered, cancelled, unexpected };
}

/** Creates customers before the faults start (retried: nothing else is running yet). */
export async function createCustomers(url: string, count: number, limit: string): Promise<number[]> {
  const ids: number[] = [];
  for (let i = 0; i < count; i++) {
    for (let attempt = 0; ; attempt++) {
      const r = await call(url, 'POST', '/customers', { name: `Chaos customer ${i + 1}`, creditLimit: { amount: limit } });
      if (r.status === 200) {
        ids.push(r.body.customerId as number);
        break;
      }
      if (attempt > 20) throw new Error(`could not create a customer: ${r.status} ${JSON.stringify(r.body)}`);
      await sleep(1_000);
    }
  }
  return ids;
}

import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, startDemoProcess, type DemoProcess } from './testing/demo-process.js';
import { runConcord } from './testing/run-concord.js';
import { freezeTable } from './testing/sqlite-fault.js';

interface Saga {
  sagaId: string;
  status: string;
  history: { event: string; step: string | null; detail: Record<string, unknown> }[];
}

async function waitFor<T>(what: string, check: () => Promise<T | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Every `concord` command against the demo running in its own process, as an operator would
 * use it: STUCK sagas and a dead letter are caused by making the demo's own tables refuse
 * writes, then finished with the CLI.
 */
describe('concord CLI against a running demo', () => {
  let demo: DemoProcess;
  let env: Record<string, string>;
  const stuck: string[] = [];

  const post = async (path: string, body: unknown) => {
    const res = await fetch(demo.url + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect(res.status, `${path}: ${await res.clone().text()}`).toBe(200);
    return (await res.json()) as Record<string, number>;
  };

  beforeAll(async () => {
    demo = await startDemoProcess();
    env = { CONCORD_URL: demo.url, CONCORD_ADMIN_TOKEN: demo.token };
    const { customerId } = await post('/customers', { name: 'Ops', creditLimit: { amount: '1000.00' } });
    // Approvals and the order history view refuse writes: three order sagas park as STUCK on
    // approve-order, and the view's consumer dead-letters the events it cannot apply.
    const approvals = freezeTable(demo.dataDir, 'order-service', 'example_orders', 'UPDATE');
    const view = freezeTable(demo.dataDir, 'order-history', 'view_orders', 'INSERT');
    for (let i = 0; i < 3; i++) {
      const { orderId } = await post('/orders', { customerId, orderTotal: { amount: '10.00' } });
      stuck.push(`create-order-${orderId}`);
    }
    await waitFor('three STUCK sagas', async () => {
      const r = await runConcord(['sagas', 'list', '--status', 'STUCK', '--json'], env);
      return r.code === 0 && r.json<{ sagas: unknown[] }>().sagas.length === 3;
    });
    await waitFor('a dead letter', async () => {
      const r = await runConcord(['dlq', 'list', '--json'], env);
      return r.code === 0 && r.json<{ deadLetters: unknown[] }>().deadLetters.length > 0;
    });
    approvals.thaw();
    view.thaw();
  }, 120_000);

  afterAll(async () => {
    await demo?.stop();
  });

  it('sagas list: JSON for scripts, a table for people, --status filters', async () => {
    const all = (await runConcord(['sagas', 'list', '--json'], env)).json<{ sagas: Saga[]; counts: Record<string, number> }>();
    expect(all.sagas.map((s) => s.sagaId).sort()).toEqual([...stuck].sort());
    expect(all.counts.STUCK).toBe(3);
    const onlyStuck = (await runConcord(['sagas', 'list', '--status', 'stuck', '--json'], env)).json<{ sagas: Saga[] }>();
    expect(onlyStuck.sagas.every((s) => s.status === 'STUCK')).toBe(true);
    const people = await runConcord(['sagas', 'list'], env);
    expect(people.code).toBe(0);
    expect(people.stdout).toMatch(/^ID\s+TYPE\s+STATUS/);
    expect(people.stdout).toContain(stuck[0]);
    const bad = await runConcord(['sagas', 'list', '--status', 'SLEEPING'], env);
    expect(bad.code).toBe(2);
  });

  it('sagas show: the state and whole history', async () => {
    const saga = (await runConcord(['sagas', 'show', stuck[0]!, '--json'], env)).json<Saga>();
    expect(saga.status).toBe('STUCK');
    expect(saga.history.at(-1)).toMatchObject({ event: 'STUCK', step: 'approve-order' });
    const people = await runConcord(['sagas', 'show', stuck[0]!], env);
    expect(people.stdout).toContain('status:');
    expect(people.stdout).toContain('RETRY_SCHEDULED');
  });

  it('sagas retry finishes a STUCK saga once the cause is gone; a second retry is refused with 409', async () => {
    const retried = await runConcord(['sagas', 'retry', stuck[0]!, '--note', 'orders table fixed', '--json'], env);
    expect(retried.json<Saga>().status).toBe('COMPLETED');
    const again = await runConcord(['sagas', 'retry', stuck[0]!], env);
    expect(again.code).toBe(1);
    expect(again.stderr.trim().split('\n')).toHaveLength(1);
    expect(again.stderr).toMatch(/^concord: refused \(conflict\): .*applies only to a STUCK saga/);
  });

  it('sagas resolve marks the stuck step done with a note, recorded in the history', async () => {
    const r = await runConcord(['sagas', 'resolve', stuck[1]!, '--step', 'approve-order', '--as', 'done', '--note', 'approved by hand in the ERP', '--json'], env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json<Saga>().status).toBe('COMPLETED');
    const saga = (await runConcord(['sagas', 'show', stuck[1]!, '--json'], env)).json<Saga>();
    expect(saga.history.find((h) => h.event === 'MANUAL_RESOLVE')?.detail).toMatchObject({ note: 'approved by hand in the ERP', as: 'done', actor: demo.actor });
    const missing = await runConcord(['sagas', 'resolve', stuck[1]!, '--step', 'approve-order', '--as', 'done'], env);
    expect(missing.code).toBe(2);
  });

  it('sagas abort stops a STUCK saga', async () => {
    const r = await runConcord(['sagas', 'abort', stuck[2]!, '--note', 'customer called, no order', '--json'], env);
    expect(r.json<Saga>().status).toBe('ABORTED');
  });

  it('outbox status lists every service with its lag', async () => {
    const status = (await runConcord(['outbox', 'status', '--json'], env)).json<{ outbox: Record<string, { count: number }> }>();
    expect(Object.keys(status.outbox)).toEqual(expect.arrayContaining(['customer-service', 'order-service']));
    const people = await runConcord(['outbox', 'status'], env);
    expect(people.stdout).toMatch(/SERVICE\s+UNSENT\s+OLDEST/);
  });

  it('dlq list and replay: the replayed letter leaves the list and a second replay is refused', async () => {
    const { deadLetters } = (await runConcord(['dlq', 'list', '--json'], env)).json<{ deadLetters: { ref: string; consumer: string; error: string }[] }>();
    expect(deadLetters[0]!.error).toContain('refuses writes');
    const ref = deadLetters[0]!.ref;
    const replay = await runConcord(['dlq', 'replay', ref, '--json'], env);
    expect(replay.code, replay.stderr).toBe(0);
    expect(replay.json<{ replayed: { id: string } }>().replayed.id).toEqual(expect.any(String));
    expect(replay.stderr).toContain(`replaying ${ref}`);
    const twice = await runConcord(['dlq', 'replay', ref], env);
    expect(twice.code).toBe(1);
    expect(twice.stderr).toMatch(/already replayed/);
    const after = (await runConcord(['dlq', 'list', '--json'], env)).json<{ deadLetters: { ref: string }[] }>();
    expect(after.deadLetters.map((l) => l.ref)).not.toContain(ref);
  });

  it('views rebuild reports progress and the result; an unknown view is a clear 404', async () => {
    const r = await runConcord(['views', 'rebuild', 'order-history', '--json'], env);
    expect(r.json()).toMatchObject({ rebuilt: 'order-history' });
    expect(r.stderr).toContain('rebuilding view order-history');
    const unknown = await runConcord(['views', 'rebuild', 'nope'], env);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/^concord: not found: no view nope/);
  });

  it('timers list and locks list say so when the service has none', async () => {
    for (const kind of ['timers', 'locks']) {
      const r = await runConcord([kind, 'list', '--json'], env);
      expect(r.code, r.stderr).toBe(0);
      const body = r.json<Record<string, unknown>>();
      expect(Array.isArray(body[kind])).toBe(true);
      const people = await runConcord([kind, 'list'], env);
      expect(people.code).toBe(0);
    }
  });

  it('console serves the console locally and forwards its API calls to the service', async () => {
    const child = spawn(process.execPath, [join(REPO_ROOT, 'packages/cli/bin/concord.js'), 'console', '--port', '0', '--json'], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let text = '';
    child.stdout!.on('data', (c: Buffer) => (text += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (text += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const started = await waitFor(`the console address (output so far: ${text})`, async () => {
        try {
          return JSON.parse(text) as { url: string; service: string };
        } catch {
          return undefined;
        }
      });
      expect(started.service).toBe(demo.url);
      const local = new URL(started.url);
      expect(local.hash).toBe(`#token=${demo.token}`);
      const page = await fetch(new URL('/console/', local));
      expect(await page.text()).toContain('Concord operator console');
      expect((await fetch(new URL('/console/vendor/preact/preact.module.js', local))).status).toBe(200);
      const proxied = await fetch(new URL('/admin/sagas?status=STUCK', local), { headers: { authorization: `Bearer ${demo.token}` } });
      expect(proxied.status).toBe(200);
      expect(await proxied.json()).toMatchObject({ sagas: expect.any(Array) });
      expect((await fetch(new URL('/admin/sagas', local))).status).toBe(401);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
    const wrong = await runConcord(['console', '--token', 'nope'], env);
    expect(wrong.code).toBe(4);
  });

  it('errors: one line, non-zero exit, a reason per cause', async () => {
    const notFound = await runConcord(['sagas', 'show', 'no-such-saga'], env);
    expect(notFound.code).toBe(1);
    expect(notFound.stderr).toBe('concord: not found: no saga no-such-saga\n');
    const refused = await runConcord(['outbox', 'status', '--url', 'http://127.0.0.1:18699'], env);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toMatch(/^concord: cannot reach http:\/\/127\.0\.0\.1:18699: connection refused/);
    const wrongToken = await runConcord(['sagas', 'list', '--token', 'not-the-token'], env);
    expect(wrongToken.code).toBe(4);
    expect(wrongToken.stderr).toMatch(/^concord: unauthorized: the service refused the token/);
    const noToken = await runConcord(['dlq', 'list'], { CONCORD_URL: demo.url });
    expect(noToken.code).toBe(4);
    const badUrl = await runConcord(['outbox', 'status', '--url', 'not a url'], env);
    expect(badUrl.code).toBe(2);
  });
});

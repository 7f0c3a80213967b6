import pg from 'pg';
import { createTestDatabase } from './test-database.js';

const db = await createTestDatabase('scratch');
const pool = new pg.Pool({ connectionString: db.url, max: 20 });
try {
  await pool.query('CREATE TABLE public.accounts (k int PRIMARY KEY, balance bigint NOT NULL DEFAULT 0)');
  await pool.query('CREATE TABLE public.orders (id bigserial PRIMARY KEY, k int NOT NULL, amount int NOT NULL, created_at bigint NOT NULL)');
  await pool.query('CREATE TABLE public.ob (position bigint generated always as identity primary key, message_id text, payload text, sent_at bigint)');
  await pool.query('INSERT INTO public.accounts (k) SELECT g FROM generate_series(1, 1000) g');
  for (const variant of ['3stmt', '4stmt', '4stmt+notify', '3stmt']) {
    let n = 0;
    const t0 = performance.now();
    await Promise.all(Array.from({ length: 16 }, async () => {
      const c = await pool.connect();
      while (performance.now() - t0 < 4000) {
        const k = 1 + Math.floor(Math.random() * 1000);
        await c.query('BEGIN');
        await c.query('INSERT INTO public.orders (k, amount, created_at) VALUES ($1, 1, $2)', [k, Date.now()]);
        await c.query('UPDATE public.accounts SET balance = balance + 1 WHERE k = $1', [k]);
        if (variant !== '3stmt') await c.query('INSERT INTO public.ob (message_id, payload) VALUES ($1, $2)', [String(n), '{"a":1}']);
        if (variant.includes('notify')) await c.query(`SELECT pg_notify('x', '')`);
        await c.query('COMMIT');
        n++;
      }
      c.release();
    }));
    console.log(variant, (n / ((performance.now() - t0) / 1000)).toFixed(0), 'tx/s');
  }
} finally {
  await pool.end();
  await db.drop();
}

import { monitorEventLoopDelay } from 'node:perf_hooks';
import { silentLogger } from '@concord/core';
const h = monitorEventLoopDelay({ resolution: 1 }); h.enable();
import { testEnvelope } from '@concord/core/testing';
import { openNatsBroker } from '@concord/nats';
const pub = await openNatsBroker({ servers: '127.0.0.1:4222', streamPrefix: 'exp-lat', logger: silentLogger });
const sub = await openNatsBroker({ servers: '127.0.0.1:4222', streamPrefix: 'exp-lat', logger: silentLogger });
const channel = 'lat' + Date.now();
await pub.partitionsOf(channel);
const sent = new Map<string, number>(); const pubLat: number[] = []; const e2e: number[] = [];
const s = process.env.NOSUB ? { close: async () => {} } : await sub.subscribe({ group: 'g', channels: [channel], handler: async (b) => { const now = performance.now(); for (const m of b.messages) { const t = sent.get(m.id); if (t !== undefined) e2e.push(now - t); } } });
await new Promise((r) => setTimeout(r, 500));
const rate = Number(process.argv[2] ?? 500); const batch = Number(process.argv[3] ?? 1);
const t0 = performance.now(); let i = 0;
const inflight: Promise<void>[] = [];
while (performance.now() - t0 < 3000) {
  const due = Math.floor((performance.now() - t0) / 1000 * rate);
  while (i < due) { const msgs = Array.from({ length: batch }, (_, j) => testEnvelope(channel, `key-${(i + j) % 16}`, i + j)); i += batch; const ts = performance.now(); for (const m of msgs) sent.set(m.id, ts); inflight.push(pub.publish(msgs).then(() => { pubLat.push(performance.now() - ts); })); }
  await new Promise((r) => setTimeout(r, 2));
}
await Promise.all(inflight); await new Promise((r) => setTimeout(r, 500));
const q = (a: number[], p: number) => { if (a.length === 0) return '-'; const x = [...a].sort((m, n) => m - n); return x[Math.min(x.length - 1, Math.ceil(p / 100 * x.length) - 1)]!.toFixed(1); };
console.log({ loopP99: (h.percentile(99) / 1e6).toFixed(1), loopMax: (h.max / 1e6).toFixed(1), rate, batch, n: e2e.length, pubP50: q(pubLat, 50), pubP99: q(pubLat, 99), e2eP50: q(e2e, 50), e2eP99: q(e2e, 99) });
await s.close(); await sub.close(); await pub.deleteStreams(); await pub.close();

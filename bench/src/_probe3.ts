import { silentLogger, type Broker, type MessageEnvelope } from '@concord/core';
import { counterEvent } from '@concord/core/testing';
import { ensureMysqlDatabase, dropMysqlDatabase, openMysqlStore, openMysqlBroker, createMysqlRelay } from '@concord/mysql';
const uri = 'mysql://root@127.0.0.1:3306/concord_probe3';
await dropMysqlDatabase(uri); await ensureMysqlDatabase(uri);
const store = await openMysqlStore({ uri, logger: silentLogger });
const real = await openMysqlBroker({ uri, logger: silentLogger });
const committed = new Map<number, number>();
const lat: number[] = []; const pubDur: number[] = [];
const broker: Broker = { name: 'x', capabilities: real.capabilities, subscribe: (o) => real.subscribe(o), close: () => real.close(),
  async publish(ms: readonly MessageEnvelope[]) { const t = performance.now(); for (const m of ms) { const c = committed.get((m.payload as {seq:number}).seq); if (c) lat.push(t - c); } await real.publish(ms); pubDur.push(performance.now() - t); } };
const mode = (process.env.MODE ?? 'polling') as 'polling';
const relay = await createMysqlRelay({ mode, store, broker, logger: silentLogger, pollIntervalMs: 20, shardLeases: process.env.NOLEASE ? false : true });
relay.start();
const Counted = counterEvent('p3');
await new Promise((r) => setTimeout(r, 1000));
for (let i = 0; i < 60; i++) {
  await store.transaction((tx) => tx.outbox.send(Counted, { key: 'k', seq: i }));
  committed.set(i, performance.now());
  await new Promise((r) => setTimeout(r, 50));
}
await new Promise((r) => setTimeout(r, 500));
const s = (a: number[]) => a.sort((x, y) => x - y).filter((_, i, arr) => i === Math.floor(arr.length / 2) || i === arr.length - 1).map(Math.round);
console.log(mode, 'commit→publish p50/max', s(lat), 'publish dur p50/max', s(pubDur));
await relay.stop(); await real.close(); await store.close(); await dropMysqlDatabase(uri);

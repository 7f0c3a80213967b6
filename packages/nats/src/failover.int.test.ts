import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { silentLogger, type MessageEnvelope } from '@concord/core';
import { eventually, serviceAvailable, services, testEnvelope, uniqueName } from '@concord/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openNatsBroker, type NatsBroker } from './index.js';

const available = await serviceAvailable(services.nats);
const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = join(here, '..', '..', '..');
const streamPrefix = `t-failover-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;

type Report =
  | { type: 'ready'; pid: number }
  | { type: 'batch'; pid: number; messages: Array<[string, string, number]> }
  | { type: 'partitions'; pid: number; partitions: string[] };

/** First deliveries per key, in the order the members reported them. */
class Deliveries {
  readonly firstSeen = new Map<string, number[]>();
  readonly ids = new Set<string>();
  readonly byPid = new Map<number, number>();
  readonly partitions = new Map<number, string[]>();
  redeliveries = 0;

  record(report: Report): void {
    if (report.type === 'partitions') this.partitions.set(report.pid, report.partitions);
    if (report.type !== 'batch') return;
    for (const [id, key, seq] of report.messages) {
      if (this.ids.has(id)) {
        this.redeliveries++;
        continue;
      }
      this.ids.add(id);
      this.byPid.set(report.pid, (this.byPid.get(report.pid) ?? 0) + 1);
      const list = this.firstSeen.get(key) ?? [];
      list.push(seq);
      this.firstSeen.set(key, list);
    }
  }
}

function startMember(
  group: string,
  channel: string,
  deliveries: Deliveries,
  onReport: (report: Report, child: ChildProcess) => void = () => {},
): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=development', join(here, 'testing', 'failover-member.ts')], {
    cwd: repoRoot,
    env: { ...process.env, STREAM_PREFIX: streamPrefix, GROUP: group, CHANNEL: channel, LEASE_MS: '1500', WORK_MS: '20' },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    child.on('message', (report: Report) => {
      deliveries.record(report);
      onReport(report, child);
      if (report.type === 'ready') resolve(child);
    });
    child.once('exit', (code) => reject(new Error(`member exited early with ${code}`)));
  });
}

describe.skipIf(!available)('NATS broker failover between processes', () => {
  let broker: NatsBroker;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    broker = await openNatsBroker({ servers: '127.0.0.1:4222', streamPrefix, leaseMs: 1_500, logger: silentLogger });
  });
  afterAll(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await broker?.deleteStreams();
    await broker?.close();
  });

  it('hands a SIGKILLed member’s partitions to the others; first deliveries keep per-key order over 20,000 messages', async () => {
    const channel = uniqueName('orders');
    const group = uniqueName('g');
    const keys = 200;
    const perKey = 100;
    const total = keys * perKey;
    const deliveries = new Deliveries();
    const all: MessageEnvelope[] = [];
    for (let s = 0; s < perKey; s++) for (let k = 0; k < keys; k++) all.push(testEnvelope(channel, `key-${k}`, s));

    // Half is waiting before anyone consumes; more comes while members join and one dies.
    const publishRange = async (from: number, to: number, pauseMs = 0) => {
      for (let i = from; i < to; i += 500) {
        await broker.publish(all.slice(i, Math.min(to, i + 500)));
        if (pauseMs) await new Promise((r) => setTimeout(r, pauseMs));
      }
    };
    await broker.partitionsOf(channel);
    await publishRange(0, total / 2);
    // Killed right after it reported a batch it has not acknowledged yet: mid-batch for sure.
    let armed = false;
    let killedMidBatch: number[] = [];
    const first = await startMember(group, channel, deliveries, (report, child) => {
      if (armed && report.type === 'batch' && child.signalCode === null && killedMidBatch.length === 0) {
        child.kill('SIGKILL');
        killedMidBatch = report.messages.map(([, , seq]) => seq);
      }
    });
    children.push(first);
    const publishing = publishRange(total / 2, total * 0.8, 50);

    await eventually(() => deliveries.ids.size >= 2_000, 20_000);
    const second = await startMember(group, channel, deliveries);
    children.push(second);
    await eventually(() => (deliveries.partitions.get(second.pid!)?.length ?? 0) > 0, 20_000);
    await publishing;
    // The first member still owns about half the partitions, so this last fifth reaches it.
    armed = true;
    const beforeKill = deliveries.ids.size;
    await publishRange(total * 0.8, total);
    await eventually(() => first.signalCode === 'SIGKILL', 10_000);

    await eventually(() => deliveries.ids.size === total, 30_000, 50);
    expect(deliveries.byPid.get(second.pid!) ?? 0).toBeGreaterThan(0);
    expect(deliveries.ids.size - beforeKill).toBeGreaterThan(0);
    expect(killedMidBatch.length).toBeGreaterThan(0);
    // the batch in hand when it died was never acknowledged, so someone got it again
    expect(deliveries.redeliveries).toBeGreaterThanOrEqual(killedMidBatch.length);
    await eventually(() => deliveries.partitions.get(second.pid!)?.length === 16, 10_000);
    expect(deliveries.firstSeen.size).toBe(keys);
    for (const [key, seqs] of deliveries.firstSeen) {
      expect({ key, seqs }).toEqual({ key, seqs: Array.from({ length: perKey }, (_, i) => i) });
    }
    console.log(`failover: ${total} delivered, ${deliveries.redeliveries} redeliveries, by member ${JSON.stringify([...deliveries.byPid])}`);
  });
});

import {
  backoffDelay,
  ClosedError,
  ConcordErrorCode,
  defaultBackoff,
  isConcordError,
  defaultLogger,
  systemClock,
  type Broker,
  type Clock,
  type Logger,
  type MessageRejectedError,
  type OutboxLag,
  type Relay,
  type Instrumentation,
} from '@concord/core';
import { OUTBOX_SHARDS, OUTBOX_TOPIC, WakeSignal, type OutboxRecord } from '@concord/core/spi';
import { fetchUnsentInShards, lanesByShard, readOutboxSnapshot } from './outbox-rows.js';
import type { PostgresPoolClient } from './postgres-pool.js';
import type { PostgresStore } from './postgres-store.js';
import { ShardLeases } from './shard-leases.js';
import { UnsentFloor } from './unsent-floor.js';

export interface PostgresPollingRelayOptions<C extends PostgresPoolClient> {
  readonly store: PostgresStore<C>;
  readonly broker: Broker;
  /** Rows read per round. Default 1000. */
  readonly batchSize?: number;
  /** Broker publishes in flight at once, each for a disjoint set of shards. Default 4. */
  readonly publishConcurrency?: number;
  /** Longest sleep when nothing woke the relay (NOTIFY and local commits wake it at once). Default 1 s. */
  readonly pollIntervalMs?: number;
  /** How often shard leases are checked against the number of live relays. Default 1 s. */
  readonly rebalanceIntervalMs?: number;
  /**
   * Reads normally start past the rows already sent (see UnsentFloor); this often one reads from
   * the start, for the rare row that can slip below. Default 5 s.
   */
  readonly fullReadEveryMs?: number;
  /** Sent rows are kept this long for inspection, then deleted. Default 1 hour. */
  readonly retainSentMs?: number;
  readonly logger?: Logger;
  readonly clock?: Clock;
  /** Told about each published batch (metrics, tracing). */
  readonly instrumentation?: Instrumentation;
}

export interface PostgresPollingRelayStats {
  readonly published: number;
  readonly rounds: number;
  readonly failures: number;
  /** Messages moved to `store.parkedOutbox` (refused by the broker, or undecodable). */
  readonly parked: number;
  readonly shards: number;
  readonly members: number;
}

/**
 * A polling relay that can run as several instances at once. Instances split the outbox's
 * shards between them with advisory-lock leases (see `ShardLeases` and
 * docs/decisions/010-postgres-relay.md); each reads only its shards' unsent rows in
 * position order and publishes disjoint shard groups in parallel, so per-key order holds.
 */
export class PostgresPollingRelay<C extends PostgresPoolClient = PostgresPoolClient> implements Relay {
  private readonly wakeSignal = new WakeSignal();
  private readonly leases: ShardLeases<C>;
  private abort: AbortController | undefined;
  private loop: Promise<void> | undefined;
  private cleanups: Array<() => unknown> = [];
  private readonly stats = { published: 0, rounds: 0, failures: 0, parked: 0 };
  private lastRebalance = 0;
  private lastPurge = 0;
  private marking: { positions: number[]; done: Promise<void> } | undefined;
  private readonly floor: UnsentFloor;
  private readonly batchSize: number;
  private readonly lanes: number;
  private readonly pollIntervalMs: number;
  private readonly rebalanceIntervalMs: number;
  private readonly retainSentMs: number;
  private readonly logger: Logger;
  private readonly clock: Clock;

  constructor(private readonly options: PostgresPollingRelayOptions<C>) {
    this.batchSize = options.batchSize ?? 1000;
    this.lanes = Math.max(1, options.publishConcurrency ?? 4);
    this.pollIntervalMs = options.pollIntervalMs ?? 1_000;
    this.rebalanceIntervalMs = options.rebalanceIntervalMs ?? 1_000;
    this.retainSentMs = options.retainSentMs ?? 3_600_000;
    this.logger = (options.logger ?? defaultLogger()).child({ component: 'postgres-polling-relay', schema: options.store.schema });
    this.clock = options.clock ?? systemClock;
    this.floor = new UnsentFloor(options.fullReadEveryMs ?? 5_000);
    this.leases = new ShardLeases(options.store.driver, OUTBOX_SHARDS, this.logger);
  }

  start(): void {
    if (this.loop) return;
    const abort = (this.abort = new AbortController());
    const wake = () => this.wakeSignal.wake();
    this.cleanups.push(this.options.store.outbox.onCommitted(wake));
    const listening = this.options.store.driver.listen(OUTBOX_TOPIC, wake).then(
      (unlisten) => this.cleanups.push(unlisten),
      (error: unknown) => this.logger.warn({ err: error }, 'LISTEN failed; relying on polling'),
    );
    this.loop = listening.then(() => this.run(abort.signal));
  }

  async stop(): Promise<void> {
    this.abort?.abort();
    await this.loop;
    this.loop = undefined;
    await this.settleMarking();
    for (const cleanup of this.cleanups.splice(0)) await cleanup();
    await this.leases.close();
  }

  lag(): Promise<OutboxLag> {
    return this.options.store.outbox.lag();
  }

  /** Shards this instance holds right now. */
  ownedShards(): number[] {
    return [...this.leases.current].sort((a, b) => a - b);
  }

  isRunning(): boolean {
    return this.loop !== undefined;
  }

  getStats(): PostgresPollingRelayStats {
    return { ...this.stats, shards: this.leases.current.size, members: this.leases.memberCount };
  }

  private async run(signal: AbortSignal): Promise<void> {
    let failures = 0;
    while (!signal.aborted) {
      try {
        const now = this.clock.now();
        if (now - this.lastRebalance >= this.rebalanceIntervalMs || this.leases.current.size === 0) {
          await this.leases.refresh();
          this.lastRebalance = now;
        }
        this.stats.rounds++;
        const n = this.leases.current.size === 0 ? 0 : await this.publishRound();
        failures = 0;
        await this.purgeNowAndThen();
        if (n < this.batchSize) {
          const idle = this.leases.current.size === 0 ? Math.min(this.pollIntervalMs, this.rebalanceIntervalMs) : this.pollIntervalMs;
          await this.wakeSignal.wait(idle, signal);
        }
      } catch (error) {
        if (signal.aborted && error instanceof ClosedError) return;
        failures++;
        this.stats.failures++;
        this.options.instrumentation?.relayFailed?.(error);
        this.logger.warn({ err: error, failures }, 'polling relay round failed; retrying');
        await this.clock.sleep(backoffDelay(defaultBackoff, failures), signal);
      }
    }
  }

  /**
   * One round: read the owned shards' oldest unsent rows, publish shard groups in parallel,
   * mark what the broker took. While draining a backlog, marking overlaps the next round's
   * read, which leaves out the rows still being marked (they are published already).
   */
  private async publishRound(): Promise<number> {
    const { store, broker } = this.options;
    const shards = [...this.leases.current];
    const marking = this.marking?.positions;
    const table = `${store.schema}.outbox`;
    const from = this.floor.startFor(shards, this.clock.now());
    // The snapshot first: the rows read after it include everything it counts as ended.
    const [snapshot, { records, undecodable }] = await store.driver.run((exec) =>
      Promise.all([readOutboxSnapshot(exec, table), fetchUnsentInShards(exec, table, shards, this.batchSize, marking, from)]),
    );
    for (const u of undecodable) await this.park(u.position, u.reason, 'undecodable outbox row parked; the relay goes on without it');
    if (records.length === 0) {
      this.floor.advance(snapshot, undefined);
      await this.settleMarking();
      return 0;
    }
    const lanes = lanesByShard(records, this.lanes);
    const started = Date.now();
    const results = await Promise.allSettled(lanes.map((lane) => broker.publish(lane.map((r) => r.envelope))));
    const accepted: OutboxRecord[] = [];
    let failure: unknown;
    for (const [i, result] of results.entries()) {
      if (result.status === 'fulfilled') {
        accepted.push(...lanes[i]!);
        continue;
      }
      // Refused for good (brokers refuse before sending anything of the call): park that one
      // message; the rest of its lane stays unsent and goes in the next round.
      const rejected = isConcordError(result.reason, ConcordErrorCode.MESSAGE_REJECTED)
        ? lanes[i]!.find((r) => r.envelope.id === (result.reason as MessageRejectedError).messageId)
        : undefined;
      if (rejected) await this.park(rejected.position, (result.reason as Error).message, 'broker refuses an outbox message: parked');
      else failure ??= result.reason;
    }
    this.stats.published += accepted.length;
    if (accepted.length > 0) this.options.instrumentation?.relayPublished?.({ messages: accepted.map((r) => r.envelope), durationMs: Date.now() - started });
    await this.settleMarking();
    // A failed lane's rows stay unsent; the lanes that made it are marked so they are not sent twice.
    const positions = accepted.map((r) => r.position);
    if (failure === undefined) {
      // What this round leaves unsent stays above the floor: a lane the broker refused, or
      // the rows past a full batch.
      const taken = new Set(positions);
      const left = records.filter((r) => !taken.has(r.position)).map((r) => r.position);
      if (records.length >= this.batchSize) left.push(records[records.length - 1]!.position + 1);
      this.floor.advance(snapshot, left.length > 0 ? Math.min(...left) : undefined);
    }
    const done = store.outbox.markSent(positions);
    if (failure !== undefined || records.length < this.batchSize) {
      await done;
      if (failure !== undefined) throw failure;
    } else {
      // If marking fails, the rows come again: duplicates, never gaps.
      this.marking = { positions, done: done.catch((error: unknown) => this.logger.warn({ err: error }, 'marking rows sent failed')) };
    }
    return records.length;
  }

  private async park(position: number, reason: string, log: string): Promise<void> {
    if (await this.options.store.outbox.park(position, reason)) {
      this.stats.parked++;
      this.logger.error({ position, reason }, log);
    }
  }

  private async settleMarking(): Promise<void> {
    const marking = this.marking;
    this.marking = undefined;
    await marking?.done;
  }

  private async purgeNowAndThen(): Promise<void> {
    const now = this.clock.now();
    if (now - this.lastPurge < 60_000) return;
    this.lastPurge = now;
    const purged = await this.options.store.outbox.purgeSent(this.retainSentMs);
    if (purged > 0) this.logger.debug({ purged }, 'purged sent outbox rows');
  }
}

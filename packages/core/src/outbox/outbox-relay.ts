import { ClosedError, InvalidArgumentError } from '../errors.js';
import { backoffDelay, defaultBackoff } from '../consumer/backoff.js';
import { defaultLogger } from '../logging.js';
import type { Broker } from '../ports/broker.js';
import { systemClock, type Clock } from '../ports/clock.js';
import type { Logger } from '../ports/logger.js';
import { noInstrumentation, type Instrumentation } from '../ports/instrumentation.js';
import type { OutboxLag, OutboxRecord, Store } from '../ports/store.js';
import { OUTBOX_SHARDS } from '../sql/store-schema.js';
import { WakeSignal } from '../util/wake-signal.js';
import { lanesByShard } from './outbox-lanes.js';
import { publishOrPark } from './publish-or-park.js';
import { storeOutboxSource, type OutboxSource } from './outbox-source.js';
import type { Relay } from './relay.js';
import type { ShardLeases } from './shard-leases.js';

export interface OutboxRelayOptions {
  readonly store: Store;
  readonly broker: Broker;
  /** Rows read per round. Default 500. */
  readonly batchSize?: number;
  /** Broker publishes in flight at once, each for a disjoint set of shards (big rounds only). Default 4. */
  readonly publishConcurrency?: number;
  /**
   * Longest sleep between rounds when nothing woke the relay. Commits in this process wake it
   * at once, as do notifications where the store has them; the poll catches other writers.
   */
  readonly pollIntervalMs?: number;
  /**
   * Rounds whose publish may be in flight at once, each for shards no other has in flight (so a
   * key's messages still go out in order). Worth more than 1 where the broker confirms slowly
   * compared with a read: RabbitMQ confirms a stream publish in about 20 ms, and with one round
   * at a time every row committed meanwhile waits for it. Needs an adapter's `OutboxSource`
   * (one that reads by shard). Default: the broker's `capabilities.relayRoundsInFlight`, else 1.
   */
  readonly roundsInFlight?: number;
  /** Sent rows are kept this long for inspection, then deleted. Default 1 hour. */
  readonly retainSentMs?: number;
  readonly logger?: Logger;
  readonly clock?: Clock;
  /** Told about each published batch and each failed round (metrics, tracing). */
  readonly instrumentation?: Instrumentation;
}

/** What a database adapter plugs into the relay loop (adapter SPI). */
export interface OutboxRelayPorts {
  /** The read of each round in the database's SQL. Default: `store.outbox.fetchUnsent`. */
  readonly source?: OutboxSource;
  /** Shares the shards with other relay instances. Default: none (one relay reads every shard). */
  readonly leases?: ShardLeases;
  /** Names the relay in its logs. Default 'outbox-relay'. */
  readonly component?: string;
}

export interface OutboxRelayStats {
  readonly published: number;
  readonly rounds: number;
  readonly failures: number;
  /** Messages moved to `store.parkedOutbox` (refused by the broker for good, or undecodable). */
  readonly parked: number;
  /** Shards this relay reads now (all of them without leases). */
  readonly shards: number;
  /** Relays sharing the shards, this one included. */
  readonly members: number;
}

/** What a relay without leases reads: every shard. */
const ALL_SHARDS: readonly number[] = Array.from({ length: OUTBOX_SHARDS }, (_, i) => i);

interface Round {
  /** Rows read (published, parked or left for the next round). */
  readonly read: number;
  readonly published: number;
  readonly parked: number;
}

/**
 * Moves committed outbox rows to the broker: the one polling relay loop, run by every SQL
 * adapter with its own read (`OutboxSource`) and locks (`ShardLeases`). A row is marked sent
 * only after the broker accepted it, so a crash at any point repeats a publish, never skips
 * one. Rows are read in commit order per shard and published in lanes of disjoint shards, and
 * the broker keeps array order per partition key, so per-key order holds. A message the
 * broker refuses for good, or a row that does not decode, is parked (decision 009).
 */
export class OutboxRelay implements Relay {
  private readonly wakeSignal = new WakeSignal();
  private readonly source: OutboxSource;
  /** Shares the shards with other relay instances; undefined for a relay that reads every shard. */
  readonly leases: ShardLeases | undefined;
  private abort: AbortController | undefined;
  private loop: Promise<void> | undefined;
  private readonly cleanups: Array<() => unknown> = [];
  private readonly stats = { published: 0, rounds: 0, failures: 0, parked: 0 };
  private marking: { positions: number[]; done: Promise<void> } | undefined;
  private lastPurge = 0;
  private readonly roundsInFlight: number;
  /** Pipelined rounds still publishing or marking, and the shards they hold. */
  private readonly pipelined = new Set<Promise<void>>();
  private readonly busyShards = new Set<number>();
  private pipelineFailure: { error: unknown } | undefined;
  private readonly batchSize: number;
  private readonly lanes: number;
  private readonly pollIntervalMs: number;
  private readonly retainSentMs: number;
  private readonly logger: Logger;
  private readonly clock: Clock;

  constructor(
    private readonly options: OutboxRelayOptions,
    ports: OutboxRelayPorts = {},
  ) {
    // The store's port reads every shard: leases without a read by shard would publish twice.
    if (ports.leases && !ports.source) throw new InvalidArgumentError('a relay with shard leases needs an OutboxSource that reads by shard');
    this.source = ports.source ?? storeOutboxSource(options.store.outbox);
    this.leases = ports.leases;
    this.batchSize = options.batchSize ?? 500;
    this.lanes = Math.max(1, options.publishConcurrency ?? 4);
    this.pollIntervalMs = options.pollIntervalMs ?? 250;
    this.retainSentMs = options.retainSentMs ?? 3_600_000;
    const rounds = options.roundsInFlight;
    if (rounds !== undefined && (!Number.isInteger(rounds) || rounds < 1)) throw new InvalidArgumentError(`roundsInFlight must be an integer of at least 1, got ${rounds}`);
    // The store's own read takes every shard: it cannot leave the busy ones out.
    if (rounds !== undefined && rounds > 1 && !ports.source) throw new InvalidArgumentError('roundsInFlight above 1 needs an OutboxSource that reads by shard');
    this.roundsInFlight = ports.source ? (rounds ?? options.broker.capabilities.relayRoundsInFlight ?? 1) : 1;
    this.logger = (options.logger ?? defaultLogger()).child({ component: ports.component ?? 'outbox-relay' });
    this.clock = options.clock ?? systemClock;
  }

  start(): void {
    if (this.loop) return;
    const abort = (this.abort = new AbortController());
    const wake = () => this.wakeSignal.wake();
    this.cleanups.push(this.options.store.outbox.onCommitted(wake));
    const listening = this.source.listen?.(wake).then(
      (unlisten) => void this.cleanups.push(unlisten),
      (error: unknown) => this.logger.warn({ err: error }, 'listening for commits failed; relying on polling'),
    );
    this.loop = Promise.resolve(listening).then(() => this.run(abort.signal));
  }

  /** Lets the round in flight finish, marks what it published, and gives back the leases. */
  async stop(): Promise<void> {
    this.abort?.abort();
    await this.loop;
    this.loop = undefined;
    await this.settlePipeline();
    await this.settleMarking();
    for (const cleanup of this.cleanups.splice(0)) await cleanup();
    await this.leases?.close();
  }

  /** Publishes one batch (from the owned shards); returns how many messages went out. */
  async publishBatch(): Promise<number> {
    return (await this.round(false)).published;
  }

  /** Publishes until the outbox (the owned shards) is empty. */
  async drain(): Promise<number> {
    let total = 0;
    for (;;) {
      const round = await this.round(false);
      total += round.published;
      if (round.read === 0) return total;
    }
  }

  lag(): Promise<OutboxLag> {
    return this.options.store.outbox.lag();
  }

  isRunning(): boolean {
    return this.loop !== undefined;
  }

  /** Shards this instance reads right now. */
  ownedShards(): number[] {
    if (!this.leases) return [...ALL_SHARDS];
    return [...this.leases.current].sort((a, b) => a - b);
  }

  getStats(): OutboxRelayStats {
    return {
      ...this.stats,
      shards: this.leases ? this.leases.current.size : OUTBOX_SHARDS,
      members: this.leases ? this.leases.memberCount : 1,
    };
  }

  private async run(signal: AbortSignal): Promise<void> {
    let failures = 0;
    while (!signal.aborted) {
      try {
        this.stats.rounds++;
        const round = this.roundsInFlight > 1 ? await this.pipelinedRound() : await this.round(true);
        failures = 0;
        await this.purgeSentNowAndThen();
        if (round.read < this.batchSize && round.parked === 0) {
          const idle = this.leases?.current.size === 0 ? Math.min(this.pollIntervalMs, this.leases.rebalanceEveryMs) : this.pollIntervalMs;
          await this.wakeSignal.wait(idle, signal);
        }
      } catch (error) {
        if (error instanceof ClosedError && signal.aborted) return;
        failures++;
        this.stats.failures++;
        (this.options.instrumentation ?? noInstrumentation).relayFailed?.(error);
        this.logger.warn({ err: error, failures }, 'outbox relay round failed; retrying');
        await this.clock.sleep(backoffDelay(defaultBackoff, failures), signal);
      }
    }
  }

  /**
   * A round that does not wait for its publish: it reads the owned shards no earlier round
   * holds, hands the rows to a publish-and-mark of their own, and returns. The shards stay busy
   * until their rows are marked, so a key's next rows are read only after its previous ones
   * went out (a failed publish is retried before anything behind it). When every owned shard
   * is busy, or `roundsInFlight` publishes are out, it waits for one to finish.
   */
  private async pipelinedRound(): Promise<Round> {
    const failed = this.pipelineFailure;
    this.pipelineFailure = undefined;
    if (failed) throw failed.error;
    // A shard given back must have nothing of ours in flight: another relay reads it next.
    if (this.leases?.isDue()) await this.settlePipeline();
    const owned = this.leases ? await this.leases.owned() : ALL_SHARDS;
    if (owned.length === 0) return { read: 0, published: 0, parked: 0 };
    const shards = owned.filter((s) => !this.busyShards.has(s));
    if (shards.length === 0 || this.pipelined.size >= this.roundsInFlight) {
      await Promise.race(this.pipelined);
      return { read: this.batchSize, published: 0, parked: 0 }; // go round again at once
    }
    const { records, undecodable } = await this.source.read({ shards, limit: this.batchSize, inFlight: [] });
    let parked = 0;
    for (const u of undecodable) parked += await this.park(u.position, u.reason, 'undecodable outbox row parked; the relay goes on without it');
    if (records.length === 0) return { read: undecodable.length, published: 0, parked };
    const held = [...new Set(records.map((r) => r.shard))];
    for (const shard of held) this.busyShards.add(shard);
    const task: Promise<void> = (async () => {
      const { accepted, failure } = await this.publishLanes(records);
      // A failed lane's rows stay unsent; the lanes that made it are marked so they are not sent twice.
      if (accepted.length > 0) await this.options.store.outbox.markSent(accepted.map((r) => r.position));
      if (failure !== undefined) throw failure;
    })()
      .catch((error: unknown) => void (this.pipelineFailure ??= { error }))
      .finally(() => {
        for (const shard of held) this.busyShards.delete(shard);
        this.pipelined.delete(task);
        this.wakeSignal.wake();
      });
    this.pipelined.add(task);
    return { read: records.length + undecodable.length, published: 0, parked };
  }

  /** Waits for every pipelined round; a failure among them is logged (its rows go again). */
  private async settlePipeline(): Promise<void> {
    while (this.pipelined.size > 0) await Promise.allSettled([...this.pipelined]);
    const failed = this.pipelineFailure;
    this.pipelineFailure = undefined;
    if (failed) this.logger.warn({ err: failed.error }, 'outbox relay publish failed; its rows go again');
  }

  /** Publishes records in disjoint shard lanes at once; what each lane's broker call did. */
  private async publishLanes(records: readonly OutboxRecord[]): Promise<{ accepted: OutboxRecord[]; parked: number; failure: unknown }> {
    const { store, broker } = this.options;
    const lanes = lanesByShard(records, this.lanes);
    const started = Date.now();
    const onParked = (r: OutboxRecord, reason: string) => this.countParked(r.position, reason, 'broker refuses an outbox message: parked; the relay goes on without it');
    const results = await Promise.allSettled(lanes.map((lane) => publishOrPark(broker, store.outbox, lane, onParked)));
    const accepted: OutboxRecord[] = [];
    let failure: unknown;
    let parked = 0;
    for (const result of results) {
      if (result.status === 'rejected') failure ??= result.reason;
      else {
        accepted.push(...result.value.published);
        parked += result.value.parked.length;
      }
    }
    this.stats.published += accepted.length;
    if (accepted.length > 0) {
      (this.options.instrumentation ?? noInstrumentation).relayPublished?.({ messages: accepted.map((r) => r.envelope), durationMs: Date.now() - started });
    }
    return { accepted, parked, failure };
  }

  /**
   * One round: read the owned shards' oldest unsent rows, publish disjoint shard lanes in
   * parallel, mark what the broker took. With `overlap`, while a backlog drains, marking
   * overlaps the next round's read, which leaves those rows out (they are published already).
   */
  private async round(overlap: boolean): Promise<Round> {
    const { store } = this.options;
    // A shard given back must have nothing of ours in flight: another relay reads it next.
    if (this.leases?.isDue()) await this.settleMarking();
    const shards = this.leases ? await this.leases.owned() : undefined;
    if (shards?.length === 0) return { read: 0, published: 0, parked: 0 };
    if (!this.source.skipsInFlight) await this.settleMarking();
    const inFlight = this.marking?.positions ?? [];
    const { records, undecodable } = await this.source.read({ shards, limit: this.batchSize, inFlight });
    let parked = 0;
    for (const u of undecodable) parked += await this.park(u.position, u.reason, 'undecodable outbox row parked; the relay goes on without it');
    if (records.length === 0) {
      await this.settleMarking();
      return { read: undecodable.length, published: 0, parked };
    }
    const { accepted, failure, parked: parkedNow } = await this.publishLanes(records);
    parked += parkedNow;
    await this.settleMarking();
    // A failed lane's rows stay unsent; the lanes that made it are marked so they are not sent twice.
    const positions = accepted.map((r) => r.position);
    const done = positions.length > 0 ? store.outbox.markSent(positions) : Promise.resolve();
    if (!overlap || !this.source.skipsInFlight || failure !== undefined || records.length < this.batchSize) {
      await done;
      if (failure !== undefined) throw failure;
    } else {
      // If marking fails, the rows come again: duplicates, never gaps.
      this.marking = { positions, done: done.catch((error: unknown) => this.logger.warn({ err: error }, 'marking rows sent failed')) };
    }
    return { read: records.length + undecodable.length, published: accepted.length, parked };
  }

  private async park(position: number, reason: string, log: string): Promise<number> {
    if (!(await this.options.store.outbox.park(position, reason))) return 0;
    this.countParked(position, reason, log);
    return 1;
  }

  private countParked(position: number, reason: string, log: string): void {
    this.stats.parked++;
    this.logger.error({ position, reason }, log);
  }

  private async settleMarking(): Promise<void> {
    const marking = this.marking;
    this.marking = undefined;
    await marking?.done;
  }

  private async purgeSentNowAndThen(): Promise<void> {
    const now = this.clock.now();
    if (now - this.lastPurge < 60_000) return;
    this.lastPurge = now;
    const purged = await this.options.store.outbox.purgeSent(this.retainSentMs);
    if (purged > 0) this.logger.debug({ purged }, 'purged sent outbox rows');
  }
}

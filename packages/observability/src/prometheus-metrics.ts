import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Instrumentation, OutboxLag, RetentionReport } from '@concord/core';

/** What scrape-time gauges read from a service: its saga counts and its outbox. */
export interface WatchedService {
  /** Saga instances by status (the orchestrator's `countByStatus`); omit for services without sagas. */
  readonly sagaCounts?: () => Promise<Readonly<Record<string, number>>>;
  /** Messages committed but not yet published (the store's `outbox.lag`). */
  readonly outboxLag?: () => Promise<OutboxLag>;
  /** Dead letters not yet replayed. */
  readonly deadLetters?: () => Promise<number>;
  /** The retention sweeper's last round (`RetentionSweeper.lastReport`); undefined before the first. */
  readonly retention?: () => RetentionReport | undefined;
}

export interface PrometheusMetricsOptions {
  /** Registers prom-client's process metrics (CPU, memory, event loop lag) too. Default true. */
  readonly processMetrics?: boolean;
  /** A registry to add to; default a new one (never the global one, so instances do not clash). */
  readonly registry?: Registry;
}

const FINAL = new Set(['COMPLETED', 'COMPENSATED', 'ABORTED']);
const seconds = (ms: number) => ms / 1000;

/**
 * Concord's metrics in Prometheus form. Counters and histograms are fed by `instrumentation(service)`,
 * which a service passes to its orchestrator, participants, consumers and relay; gauges that
 * describe state (STUCK sagas, outbox lag, dead letters) are read from the services at scrape time.
 * Names and labels are listed in docs/operations.md.
 */
export class PrometheusMetrics {
  readonly registry: Registry;
  private readonly watched = new Map<string, WatchedService>();

  private readonly sagasStarted: Counter<'service' | 'saga_type'>;
  private readonly sagasFinished: Counter<'service' | 'saga_type' | 'status'>;
  private readonly sagasStuck: Counter<'service' | 'saga_type' | 'step'>;
  private readonly sagaRetries: Counter<'service' | 'saga_type' | 'step'>;
  private readonly stepDuration: Histogram<'service' | 'saga_type' | 'step' | 'direction'>;
  private readonly relayPublished: Counter<'service'>;
  private readonly relayDuration: Histogram<'service'>;
  private readonly relayFailures: Counter<'service'>;
  private readonly consumerMessages: Counter<'service' | 'consumer' | 'channel'>;
  private readonly consumerDuration: Histogram<'service' | 'consumer' | 'channel'>;
  private readonly consumerLag: Gauge<'service' | 'consumer' | 'channel' | 'partition'>;
  private readonly consumerFailures: Counter<'service' | 'consumer'>;
  private readonly deadLettered: Counter<'service' | 'consumer'>;
  private readonly collectErrors: Counter<'service' | 'source'>;

  constructor(options: PrometheusMetricsOptions = {}) {
    const registers = [(this.registry = options.registry ?? new Registry())];
    if (options.processMetrics !== false) collectDefaultMetrics({ register: this.registry });
    const durations = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

    this.sagasStarted = new Counter({ name: 'concord_sagas_started_total', help: 'Sagas started', labelNames: ['service', 'saga_type'], registers });
    this.sagasFinished = new Counter({
      name: 'concord_sagas_finished_total',
      help: 'Sagas that reached a final status (COMPLETED, COMPENSATED, ABORTED)',
      labelNames: ['service', 'saga_type', 'status'],
      registers,
    });
    this.sagasStuck = new Counter({ name: 'concord_sagas_stuck_total', help: 'Times a saga was parked as STUCK', labelNames: ['service', 'saga_type', 'step'], registers });
    this.sagaRetries = new Counter({
      name: 'concord_saga_retries_total',
      help: 'Retries scheduled for a failed retriable step or compensation',
      labelNames: ['service', 'saga_type', 'step'],
      registers,
    });
    this.stepDuration = new Histogram({
      name: 'concord_saga_step_duration_seconds',
      help: 'Time a saga step took: a local step its run, a remote step from command sent to reply applied',
      labelNames: ['service', 'saga_type', 'step', 'direction'],
      buckets: durations,
      registers,
    });
    this.relayPublished = new Counter({ name: 'concord_relay_published_messages_total', help: 'Outbox messages the relay handed to the broker', labelNames: ['service'], registers });
    this.relayDuration = new Histogram({ name: 'concord_relay_publish_duration_seconds', help: 'Time to publish one relay batch', labelNames: ['service'], buckets: durations, registers });
    this.relayFailures = new Counter({ name: 'concord_relay_failures_total', help: 'Relay rounds that failed and will be retried', labelNames: ['service'], registers });
    this.consumerMessages = new Counter({
      name: 'concord_consumer_messages_total',
      help: 'Messages delivered to a consumer (applied, duplicate or parked)',
      labelNames: ['service', 'consumer', 'channel'],
      registers,
    });
    this.consumerDuration = new Histogram({
      name: 'concord_consumer_batch_duration_seconds',
      help: 'Time to handle one delivered batch',
      labelNames: ['service', 'consumer', 'channel'],
      buckets: durations,
      registers,
    });
    this.consumerLag = new Gauge({
      name: 'concord_consumer_lag_seconds',
      help: "Age of the oldest message in a partition's last batch when its handling began",
      labelNames: ['service', 'consumer', 'channel', 'partition'],
      registers,
    });
    this.consumerFailures = new Counter({ name: 'concord_consumer_failures_total', help: 'Failed handler attempts', labelNames: ['service', 'consumer'], registers });
    this.deadLettered = new Counter({ name: 'concord_dead_letters_total', help: 'Messages parked as dead letters', labelNames: ['service', 'consumer'], registers });
    this.collectErrors = new Counter({
      name: 'concord_metrics_collect_errors_total',
      help: 'Scrape-time reads that failed (the gauge keeps its last value)',
      labelNames: ['service', 'source'],
      registers,
    });
    this.scrapeGauges(registers);
  }

  /** The Instrumentation a service passes to its orchestrator, participants, consumers and relay. */
  instrumentation(service: string): Instrumentation {
    return {
      sagaTransition: (signals) => {
        for (const s of signals) {
          const saga = { service, saga_type: s.sagaType };
          if (s.event === 'STARTED') this.sagasStarted.inc(saga);
          else if (FINAL.has(s.event)) this.sagasFinished.inc({ ...saga, status: s.event });
          else if (s.event === 'STUCK') this.sagasStuck.inc({ ...saga, step: s.step ?? '' });
          else if (s.event === 'RETRY_SCHEDULED') this.sagaRetries.inc({ ...saga, step: s.step ?? '' });
          if (s.durationMs !== undefined) {
            const direction = s.event === 'COMPENSATION_DONE' ? 'backward' : 'forward';
            this.stepDuration.observe({ ...saga, step: s.step ?? '', direction }, seconds(s.durationMs));
          }
        }
      },
      relayPublished: ({ messages, durationMs }) => {
        this.relayPublished.inc({ service }, messages.length);
        this.relayDuration.observe({ service }, seconds(durationMs));
      },
      relayFailed: () => this.relayFailures.inc({ service }),
      consumerBatch: (b) => {
        const labels = { service, consumer: b.consumer, channel: b.channel };
        this.consumerMessages.inc(labels, b.messages);
        this.consumerDuration.observe(labels, seconds(b.durationMs));
        this.consumerLag.set({ ...labels, partition: String(b.partition) }, seconds(b.oldestAgeMs));
      },
      messageFailed: (f) => {
        if (f.deadLettered) this.deadLettered.inc({ service, consumer: f.consumer });
        else this.consumerFailures.inc({ service, consumer: f.consumer });
      },
    };
  }

  /** Adds scrape-time readings of `service` (saga counts, outbox lag, dead letters). */
  watch(service: string, sources: WatchedService): this {
    this.watched.set(service, sources);
    return this;
  }

  /** The text exposition format, for GET /metrics. */
  render(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  private scrapeGauges(registers: Registry[]): void {
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- collect() binds `this` to the gauge
    const metrics = this;
    const read = async <T>(service: string, source: string, fn: (() => Promise<T>) | undefined): Promise<T | undefined> => {
      if (!fn) return undefined;
      try {
        return await fn();
      } catch {
        // A database that does not answer must not break the scrape; /ready reports it.
        metrics.collectErrors.inc({ service, source });
        return undefined;
      }
    };
    new Gauge({
      name: 'concord_sagas',
      help: 'Saga instances by status (STUCK ones wait for a person)',
      labelNames: ['service', 'status'],
      registers,
      async collect() {
        for (const [service, w] of metrics.watched) {
          const counts = await read(service, 'sagas', w.sagaCounts);
          if (!counts) continue;
          for (const status of ['RUNNING', 'COMPENSATING', 'COMPLETED', 'COMPENSATED', 'STUCK', 'ABORTED']) this.set({ service, status }, counts[status] ?? 0);
        }
      },
    });
    // Both outbox gauges come from one lag query per service; the registry collects metrics
    // concurrently, so they share one in-flight reading per scrape instead of querying twice.
    let lagReading: { at: number; value: Promise<Map<string, OutboxLag>> } | undefined;
    const lags = () => {
      if (!lagReading || Date.now() - lagReading.at > 500) {
        lagReading = {
          at: Date.now(),
          value: (async () => {
            const out = new Map<string, OutboxLag>();
            for (const [service, w] of metrics.watched) {
              const lag = await read(service, 'outbox', w.outboxLag);
              if (lag) out.set(service, lag);
            }
            return out;
          })(),
        };
      }
      return lagReading.value;
    };
    new Gauge({
      name: 'concord_outbox_unsent_messages',
      help: 'Outbox messages committed but not yet accepted by the broker',
      labelNames: ['service'],
      registers,
      async collect() {
        for (const [service, lag] of await lags()) this.set({ service }, lag.count);
      },
    });
    new Gauge({
      name: 'concord_outbox_oldest_unsent_age_seconds',
      help: 'Age of the oldest unsent outbox message (0 when none)',
      labelNames: ['service'],
      registers,
      async collect() {
        for (const [service, lag] of await lags()) this.set({ service }, lag.oldestAgeMs === null ? 0 : seconds(lag.oldestAgeMs));
      },
    });
    const retentionReports = function* () {
      for (const [service, w] of metrics.watched) {
        const report = w.retention?.();
        if (report) yield { service, report };
      }
    };
    new Gauge({
      name: 'concord_retention_last_sweep_timestamp_seconds',
      help: 'When the retention sweeper last ran (Unix time); a stale value means old rows pile up',
      labelNames: ['service'],
      registers,
      collect() {
        for (const { service, report } of retentionReports()) this.set({ service }, seconds(report.at));
      },
    });
    new Gauge({
      name: 'concord_retention_failed_tasks',
      help: "Retention tasks that failed in the sweeper's last round (logged with the error)",
      labelNames: ['service'],
      registers,
      collect() {
        for (const { service, report } of retentionReports()) this.set({ service }, Object.keys(report.failed).length);
      },
    });
    new Gauge({
      name: 'concord_dead_letters',
      help: 'Dead letters not yet replayed',
      labelNames: ['service'],
      registers,
      async collect() {
        for (const [service, w] of metrics.watched) {
          const n = await read(service, 'dead-letters', w.deadLetters);
          if (n !== undefined) this.set({ service }, n);
        }
      },
    });
  }
}

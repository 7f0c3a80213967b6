import { ClosedError, InvalidArgumentError, InvalidPayloadError } from '../errors.js';
import { defaultLogger } from '../logging.js';
import { MessageHeader, type MessageEnvelope } from '../message/envelope.js';
import { assertName, type MessageDefinition, type PayloadOf } from '../message/message-definition.js';
import { upcastPayload } from '../message/message-versions.js';
import type { Broker, DeliveryBatch, Subscription } from '../ports/broker.js';
import { systemClock, type Clock } from '../ports/clock.js';
import type { Logger } from '../ports/logger.js';
import { noInstrumentation, type Instrumentation } from '../ports/instrumentation.js';
import type { Store, StoreTransaction, Transaction } from '../ports/store.js';
import { validatePayload } from '../schema.js';
import { MESSAGE_HEADER_REPLAY_FOR } from '../sql/sql-store.js';
import { backoffDelay, defaultBackoff, type BackoffPolicy } from './backoff.js';

export type MessageHandler<H, D extends MessageDefinition> = (
  tx: Transaction<H>,
  payload: PayloadOf<D>,
  message: MessageEnvelope,
) => Promise<void> | void;

/** How one handler is run. */
export interface HandlerOptions {
  /**
   * The handler makes a repeat of a message a no-op by itself (a saga barrier row, a state or
   * version check under a row lock), so no inbox row is written for its messages: one write
   * (and on PostgreSQL one index insert) less per message. A function decides per message.
   * Messages parked in dead letters are still recorded, so a redelivery is not parked twice.
   * Default false: every message is recorded in the inbox.
   */
  readonly idempotent?: boolean | ((message: MessageEnvelope) => boolean);
  /**
   * Runs once before the handler's messages of a batch that is tried in one transaction, with
   * all of them: to read in one statement what each message would read on its own (the
   * orchestrator's saga rows). Only an optimisation: the handler must still be right for a
   * message that `prepare` did not see, as when a failed batch runs again message by message.
   */
  readonly prepare?: (tx: Transaction<unknown>, messages: readonly MessageEnvelope[]) => Promise<void>;
}

interface Registration<H> {
  readonly definition: MessageDefinition;
  readonly handler: (tx: StoreTransaction<H>, payload: unknown, message: MessageEnvelope) => Promise<void> | void;
  readonly idempotent: (message: MessageEnvelope) => boolean;
  readonly prepare?: HandlerOptions['prepare'];
}

const never = () => false;
const always = () => true;

export interface MessageConsumerOptions<H> {
  /** The consumer group and inbox name: unique per logical consumer, stable across restarts. */
  readonly name: string;
  readonly store: Store<H>;
  readonly broker: Broker;
  /** Attempts before a message goes to dead letters. Default 5. */
  readonly maxAttempts?: number;
  readonly backoff?: BackoffPolicy;
  readonly maxBatchSize?: number;
  readonly logger?: Logger;
  readonly clock?: Clock;
  /** Told about each batch handled and each failed message (metrics, tracing). */
  readonly instrumentation?: Instrumentation;
  /**
   * Batches of several partitions that arrive together (in one event-loop turn) are first tried
   * in one transaction, up to this many messages; should a message fail there, each batch is
   * handled again on its own. 1 turns this off. Default 128 on a store that pipelines
   * statements (PostgreSQL), else 1: where every read waits for its answer (MySQL), the
   * merged run held its locks across many round trips and cost more than the commits it saved.
   */
  readonly maxMergedMessages?: number;
}

interface WaitingBatch {
  readonly batch: DeliveryBatch;
  readonly done: (error?: unknown) => void;
}

/**
 * Runs message handlers exactly once in effect: each message's id is recorded in the inbox in
 * the same local transaction as the handler's writes (unless the handler is declared
 * `idempotent`, when its own state does that job). Within a partition messages are handled
 * one after another (a failing one holds its partition while it is retried); partitions run
 * in parallel.
 */
export class MessageConsumer<H = unknown> {
  private readonly registrations = new Map<string, Registration<H>>();
  private readonly ignored = new Set<string>();
  private subscription: Subscription | undefined;
  private readonly stopping = new AbortController();
  private readonly maxAttempts: number;
  private readonly backoff: BackoffPolicy;
  private readonly logger: Logger;
  private readonly clock: Clock;
  /** Batches handed over in this event-loop turn, waiting to be tried in one transaction. */
  private waiting: WaitingBatch[] = [];
  private readonly maxMerged: number;

  constructor(private readonly options: MessageConsumerOptions<H>) {
    assertName('consumer name', options.name);
    this.maxAttempts = options.maxAttempts ?? 5;
    this.maxMerged = options.maxMergedMessages ?? (options.store.capabilities.pipelinesStatements ? 128 : 1);
    if (!Number.isInteger(this.maxMerged) || this.maxMerged < 1) {
      throw new InvalidArgumentError(`consumer ${options.name}: maxMergedMessages must be an integer of at least 1, got ${options.maxMergedMessages}`);
    }
    if (!Number.isInteger(this.maxAttempts) || this.maxAttempts < 1) {
      throw new InvalidArgumentError(`maxAttempts must be a positive integer, got ${options.maxAttempts}`);
    }
    this.backoff = options.backoff ?? defaultBackoff;
    this.logger = (options.logger ?? defaultLogger()).child({ component: 'consumer', consumer: options.name });
    this.clock = options.clock ?? systemClock;
  }

  get name(): string {
    return this.options.name;
  }

  /** Registers the handler of one message type. Register everything before `start()`. */
  handle<D extends MessageDefinition>(definition: D, handler: MessageHandler<H, D>, options: HandlerOptions = {}): this {
    if (this.subscription) throw new InvalidArgumentError(`consumer ${this.name}: register handlers before start()`);
    if (this.registrations.has(definition.type)) {
      throw new InvalidArgumentError(`consumer ${this.name}: ${definition.type} already has a handler`);
    }
    this.registrations.set(definition.type, {
      definition,
      handler: handler as Registration<H>['handler'],
      idempotent: typeof options.idempotent === 'function' ? options.idempotent : options.idempotent ? always : never,
      ...(options.prepare ? { prepare: options.prepare } : {}),
    });
    return this;
  }

  /**
   * Declares message types on this consumer's channels that it does not handle on purpose
   * (another consumer's business). Any other type without a handler is parked in dead letters
   * as UNKNOWN_MESSAGE_TYPE instead of being acknowledged unseen: a producer ahead of this
   * consumer's version must not lose messages silently.
   */
  ignore(...definitions: ReadonlyArray<MessageDefinition | string>): this {
    if (this.subscription) throw new InvalidArgumentError(`consumer ${this.name}: declare ignored types before start()`);
    for (const d of definitions) this.ignored.add(typeof d === 'string' ? d : d.type);
    return this;
  }

  async start(): Promise<void> {
    if (this.registrations.size === 0) throw new InvalidArgumentError(`consumer ${this.name}: no handlers registered`);
    const channels = [...new Set([...this.registrations.values()].map((r) => r.definition.channel))];
    this.subscription = await this.options.broker.subscribe({
      group: this.name,
      channels,
      handler: (batch) => this.handleTimedBatch(batch),
      ...(this.options.maxBatchSize ? { maxBatchSize: this.options.maxBatchSize } : {}),
    });
  }

  /** True between start() and stop(): the consumer is subscribed (for readiness checks). */
  isRunning(): boolean {
    return this.subscription !== undefined && !this.stopping.signal.aborted;
  }

  assignedPartitions(): string[] {
    return this.subscription?.assignedPartitions() ?? [];
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    await this.subscription?.close();
  }

  private async handleTimedBatch(batch: DeliveryBatch): Promise<void> {
    const instrumentation = this.options.instrumentation ?? noInstrumentation;
    if (!instrumentation.consumerBatch) return this.handleMerged(batch);
    const started = Date.now();
    const oldest = batch.messages.reduce((min, m) => Math.min(min, m.createdAt), started);
    await this.handleMerged(batch);
    instrumentation.consumerBatch({
      consumer: this.name,
      channel: batch.channel,
      partition: batch.partition,
      messages: batch.messages.length,
      durationMs: Date.now() - started,
      oldestAgeMs: Math.max(0, started - oldest),
    });
  }

  /**
   * Partition loops hand over their batches one by one, but a publish usually feeds several
   * partitions at once (and their reads share one statement): batches handed over in the same
   * event-loop turn are tried in one transaction, so a consumer commits once per turn rather
   * than once per partition. Order holds: each partition's messages stay in order, and no
   * partition has two batches out at once.
   */
  private handleMerged(batch: DeliveryBatch): Promise<void> {
    if (this.maxMerged === 1 || batch.messages.length >= this.maxMerged) return this.handleBatch(batch);
    return new Promise((resolve, reject) => {
      this.waiting.push({ batch, done: (error) => (error === undefined ? resolve() : reject(error)) });
      if (this.waiting.length === 1) setImmediate(() => this.handleWaiting().catch((error: unknown) => this.logger.error({ err: error }, 'merged batches failed')));
    });
  }

  private async handleWaiting(): Promise<void> {
    const waiting = this.waiting;
    this.waiting = [];
    // Groups of whole batches of at most maxMerged messages (a batch is never split).
    const groups: WaitingBatch[][] = [];
    let size = Infinity;
    for (const w of waiting) {
      if (size + w.batch.messages.length > this.maxMerged) {
        groups.push([]);
        size = 0;
      }
      groups[groups.length - 1]!.push(w);
      size += w.batch.messages.length;
    }
    // A promise already settled ignores a second settlement: this only reaches batches left open.
    await Promise.all(groups.map((group) => this.handleGroup(group).catch((error: unknown) => group.forEach((w) => w.done(error ?? new Error('batch failed'))))));
  }

  private async handleGroup(group: readonly WaitingBatch[]): Promise<void> {
    const settle = (w: WaitingBatch, work: Promise<void>) => work.then(() => w.done(), (error: unknown) => w.done(error ?? new Error('batch failed')));
    if (group.length === 1) return settle(group[0]!, this.handleBatch(group[0]!.batch));
    const messages = group.flatMap((w) => w.batch.messages);
    if (messages.some((m) => this.isUnknown(m)) || this.stopping.signal.aborted) {
      await Promise.all(group.map((w) => settle(w, this.handleBatch(w.batch))));
      return;
    }
    const perBatch = group.map((w) => w.batch.messages.filter((m) => this.registrationFor(m) !== undefined));
    const known = perBatch.flat();
    const outcome = known.length > 0 ? await this.tryWholeBatch(known) : 'done';
    if (outcome === 'done') {
      for (const w of group) w.done();
      return;
    }
    // A message failed in the merged transaction (nothing committed). Its batch starts from
    // that failure, counted as an attempt as in a batch of its own; the others run again as
    // they came.
    let offset = 0;
    await Promise.all(
      group.map((w, i) => {
        const first = offset;
        offset += perBatch[i]!.length;
        const failure = outcome.index >= first && outcome.index < offset ? { index: outcome.index - first, error: outcome.error } : undefined;
        return settle(w, this.handleBatch(w.batch, failure));
      }),
    );
  }

  /**
   * Handles a batch in as few local transactions as possible. First the whole batch in one
   * transaction without savepoints (they cost a round trip each, and subtransactions on
   * PostgreSQL); if a message fails, that transaction rolls back and the batch is handled
   * again in groups: messages one after another in one transaction, each in its own savepoint,
   * the first failure ending the group. A failed message goes through `afterFailure` (counted
   * attempts, backoff, dead letters) and `handleMessage` before the rest of the batch continues.
   * `failed` is that first try's outcome when it was already made (merged with other batches).
   */
  private async handleBatch(batch: DeliveryBatch, failed?: { index: number; error: unknown }): Promise<void> {
    for (const m of batch.messages) if (this.isUnknown(m)) await this.parkUnknown(m);
    const messages = batch.messages.filter((m) => this.registrationFor(m) !== undefined);
    let known = failed ?? (messages.length > 1 ? await this.tryWholeBatch(messages) : undefined);
    if (known === 'done') return;
    let next = 0;
    while (next < messages.length) {
      if (this.stopping.signal.aborted) throw new ClosedError(`consumer ${this.name}`);
      if (known && next === known.index) {
        const { error } = known;
        known = undefined;
        await this.retryFailed(messages[next]!, error);
        next++;
        continue;
      }
      const end = known ? known.index : messages.length;
      if (end - next === 1 && !known) {
        // One message left: its own transaction is the savepoint.
        await this.handleMessage(messages[next]!);
        return;
      }
      let failed = -1;
      let failure: unknown;
      const start = next;
      const reached = await this.options.store.transaction(async (tx) => {
        failed = -1;
        let i = start;
        for (; i < end; i++) {
          const message = messages[i]!;
          try {
            await tx.savepoint((sub) => this.apply(sub, this.registrationFor(message)!, message), { causedBy: message, key: `message:${message.id}` });
          } catch (error) {
            failed = i;
            failure = error;
            break;
          }
        }
        return i;
      });
      if (failed === -1) {
        next = reached;
      } else {
        await this.retryFailed(messages[failed]!, failure);
        next = failed + 1;
      }
    }
  }

  /** Counts the failure just seen, then retries the message alone until it is applied or parked. */
  private async retryFailed(message: MessageEnvelope, error: unknown): Promise<void> {
    if ((await this.afterFailure(message, error)) === 'retry') await this.handleMessage(message);
  }

  /** The whole batch in one transaction: 'done', or where and why it failed (nothing committed). */
  private async tryWholeBatch(messages: readonly MessageEnvelope[]): Promise<'done' | { index: number; error: unknown }> {
    let index = 0;
    try {
      await this.options.store.transaction(async (tx) => {
        index = 0;
        await this.prepare(tx, messages);
        for (index = 0; index < messages.length; index++) {
          const message = messages[index]!;
          await this.apply(tx.scoped(message), this.registrationFor(message)!, message);
        }
      });
      return 'done';
    } catch (error) {
      return { index: Math.min(index, messages.length - 1), error };
    }
  }

  /** Each registration's `prepare`, with its messages of the batch. */
  private async prepare(tx: StoreTransaction<H>, messages: readonly MessageEnvelope[]): Promise<void> {
    const byRegistration = new Map<Registration<H>, MessageEnvelope[]>();
    for (const message of messages) {
      const registration = this.registrationFor(message);
      if (!registration?.prepare) continue;
      const list = byRegistration.get(registration);
      if (list) list.push(message);
      else byRegistration.set(registration, [message]);
    }
    for (const [registration, list] of byRegistration) await registration.prepare!(tx as Transaction<unknown>, list);
  }

  /**
   * No handler, not declared ignored, not a replay meant for another consumer, and not one of
   * Concord's own control messages (`concord.*`, e.g. saga finish notes, which only the
   * component they are for handles).
   */
  private isUnknown(message: MessageEnvelope): boolean {
    if (this.registrations.has(message.type) || this.ignored.has(message.type)) return false;
    if (message.type.startsWith('concord.')) return false;
    const replayFor = message.headers[MESSAGE_HEADER_REPLAY_FOR];
    return replayFor === undefined || replayFor === this.name;
  }

  /** Parks a message of an unknown type once (the inbox row makes a redelivery a no-op). */
  private async parkUnknown(message: MessageEnvelope): Promise<void> {
    const error =
      `UNKNOWN_MESSAGE_TYPE: consumer ${this.name} has no handler for ${message.type} on channel ${message.channel}; ` +
      `register one (then replay this dead letter) or declare it with .ignore()`;
    const parked = await this.options.store.transaction(async (tx) => {
      if (!(await tx.inbox.tryRecord(this.name, message.id))) return false;
      await tx.inbox.addDeadLetter({ consumer: this.name, message, error, stack: null, attempts: 0 });
      return true;
    });
    if (parked) this.logFor(message).error({ channel: message.channel }, 'message of an unknown type moved to dead letters');
  }

  private registrationFor(message: MessageEnvelope): Registration<H> | undefined {
    const replayFor = message.headers[MESSAGE_HEADER_REPLAY_FOR];
    if (replayFor !== undefined && replayFor !== this.name) return undefined;
    return this.registrations.get(message.type);
  }

  /** Inbox check, receive-side validation and the handler, inside the caller's transaction. */
  private async apply(tx: StoreTransaction<H>, registration: Registration<H>, message: MessageEnvelope): Promise<void> {
    const recorded = !registration.idempotent(message);
    if (recorded && !(await tx.inbox.tryRecord(this.name, message.id))) return;
    // An idempotent handler's message is recorded only when it is parked (a redelivery then finds it).
    const firstToPark = async () => recorded || (await tx.inbox.tryRecord(this.name, message.id));
    const upcast = upcastPayload(registration.definition, message);
    if (upcast.kind !== 'current') {
      // Sent by newer code (a rolling deploy), or an upcaster that throws: this code cannot read
      // it, and it must not be lost. Parked, it can be replayed once the consumer is fixed.
      if (!(await firstToPark())) return;
      await tx.inbox.addDeadLetter({ consumer: this.name, message, error: upcast.reason, stack: null, attempts: 1 });
      this.logFor(message).error({ schemaVersion: message.schemaVersion }, upcast.reason);
      return;
    }
    let payload: unknown;
    try {
      payload = await validatePayload(registration.definition.schema, upcast.payload, message.type, 'receive');
    } catch (error) {
      if (!(error instanceof InvalidPayloadError)) throw error;
      // A payload that fails its schema will fail every time: park it now, no retries.
      if (!(await firstToPark())) return;
      await tx.inbox.addDeadLetter({ consumer: this.name, message, error: error.message, stack: null, attempts: 1 });
      this.logFor(message).error({ err: error }, 'invalid message moved to dead letters');
      const signal = { consumer: this.name, message, attempts: 1, error: error.message, deadLettered: true };
      tx.afterCommit(() => this.options.instrumentation?.messageFailed?.(signal));
      return;
    }
    const instrumentation = this.options.instrumentation;
    if (!instrumentation?.inSpan) {
      await registration.handler(tx, payload, message);
      return;
    }
    await instrumentation.inSpan(
      {
        name: `handle ${message.type}`,
        kind: 'consumer',
        parentHeaders: message.headers,
        attributes: { 'messaging.consumer.group.name': this.name, 'messaging.destination.name': message.channel, 'messaging.message.id': message.id },
      },
      async () => registration.handler(tx, payload, message),
    );
  }

  private logFor(message: MessageEnvelope): Logger {
    return this.logger.child({
      messageId: message.id,
      messageType: message.type,
      correlationId: message.headers[MessageHeader.correlationId],
    });
  }

  /** Handles one message to the end: applied, duplicate, or dead-lettered. Throws only on stop. */
  async handleMessage(message: MessageEnvelope): Promise<void> {
    const registration = this.registrationFor(message);
    if (!registration) return;
    for (;;) {
      try {
        await this.options.store.transaction((tx) => this.apply(tx, registration, message), { causedBy: message });
        return;
      } catch (error) {
        if ((await this.afterFailure(message, error)) === 'dead-lettered') return;
      }
    }
  }

  /**
   * Counts the failed attempt; past the limit parks the message in dead letters, otherwise
   * waits the backoff delay. Throws when the consumer stops meanwhile, so the batch is not acked.
   */
  private async afterFailure(message: MessageEnvelope, error: unknown): Promise<'retry' | 'dead-lettered'> {
    const { store } = this.options;
    const err = error instanceof Error ? error : new Error(String(error));
    const attempts = await store.recordFailedAttempt(this.name, message.id, err.message);
    if (attempts >= this.maxAttempts) {
      await store.transaction(async (tx) => {
        if (!(await tx.inbox.tryRecord(this.name, message.id))) return;
        await tx.inbox.addDeadLetter({ consumer: this.name, message, error: err.message, stack: err.stack ?? null, attempts });
      });
      this.logFor(message).error({ err, attempts }, 'message moved to dead letters after its last attempt');
      this.options.instrumentation?.messageFailed?.({ consumer: this.name, message, attempts, error: err.message, deadLettered: true });
      return 'dead-lettered';
    }
    this.options.instrumentation?.messageFailed?.({ consumer: this.name, message, attempts, error: err.message, deadLettered: false });
    const delay = backoffDelay(this.backoff, attempts);
    this.logFor(message).warn({ err, attempts, retryInMs: delay }, 'message handler failed; retrying');
    await this.clock.sleep(delay, this.stopping.signal);
    if (this.stopping.signal.aborted) throw new ClosedError(`consumer ${this.name}`);
    return 'retry';
  }

}

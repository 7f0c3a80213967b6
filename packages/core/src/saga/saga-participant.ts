import { MessageConsumer } from '../consumer/message-consumer.js';
import { InvalidArgumentError } from '../errors.js';
import { defaultLogger } from '../logging.js';
import { MessageHeader, type MessageEnvelope } from '../message/envelope.js';
import type { PayloadOf } from '../message/message-definition.js';
import type { Broker } from '../ports/broker.js';
import { systemClock, type Clock } from '../ports/clock.js';
import type { Logger } from '../ports/logger.js';
import type { Transaction } from '../ports/store.js';
import { validatePayload } from '../schema.js';
import type { SqlStore, SqlStoreTransaction } from '../sql/sql-store.js';
import {
  replyBuilder,
  type CommandDefinition,
  type RepliesOf,
  type ReplyBuilder,
  type ReplySchemas,
  type ReplyToken,
} from './command-definition.js';
import { ParticipantBarrier } from './participant-barrier.js';
import type { SagaAction } from './saga-instance.js';
import { NULL_COMPENSATION_REPLY, SAGA_ATTEMPT_HEADER, sagaReplyMessage } from './saga-messages.js';

export type CommandHandler<H, C extends CommandDefinition> = (
  tx: Transaction<H>,
  command: PayloadOf<C>,
  reply: ReplyBuilder<RepliesOf<C>>,
  message: MessageEnvelope,
) => ReplyToken<RepliesOf<C>> | Promise<ReplyToken<RepliesOf<C>>>;

export interface SagaParticipantOptions<H> {
  /** The consumer group of this participant's command handlers. */
  readonly name: string;
  readonly store: SqlStore<H>;
  readonly broker: Broker;
  /** Barrier and inbox rows older than this are deleted. Default 7 days. */
  readonly retentionMs?: number;
  readonly maxAttempts?: number;
  /**
   * Commands handled in one transaction at most (the consumer's batch). 1 when handlers touch
   * hot rows of several resources (reservation pools): a batch would hold one pool's row while
   * waiting for another's, and two such batches deadlock.
   */
  readonly maxBatchSize?: number;
  readonly logger?: Logger;
  readonly clock?: Clock;
}

/**
 * Handles saga commands behind a barrier (see ParticipantBarrier) and sends the typed reply
 * through the outbox, all in the handler's own local transaction. The handler returns one of
 * the command's declared replies: anything else does not compile.
 */
export class SagaParticipant<H = unknown> {
  private readonly consumer: MessageConsumer<H>;
  private readonly barrier: ParticipantBarrier;
  private readonly clock: Clock;
  private readonly retentionMs: number;
  private sweeper: ReturnType<typeof setInterval> | undefined;
  private readonly logger: Logger;

  constructor(private readonly options: SagaParticipantOptions<H>) {
    this.clock = options.clock ?? systemClock;
    this.retentionMs = options.retentionMs ?? 7 * 24 * 3_600_000;
    this.logger = (options.logger ?? defaultLogger()).child({ component: 'saga-participant', participant: options.name });
    this.barrier = new ParticipantBarrier(options.store.driver.dialect);
    this.consumer = new MessageConsumer<H>({
      name: options.name,
      store: options.store,
      broker: options.broker,
      logger: options.logger ?? defaultLogger(),
      clock: this.clock,
      ...(options.maxAttempts ? { maxAttempts: options.maxAttempts } : {}),
      ...(options.maxBatchSize ? { maxBatchSize: options.maxBatchSize } : {}),
    });
  }

  handle<C extends CommandDefinition>(command: C, handler: CommandHandler<H, C>): this {
    if (command.kind !== 'command') throw new InvalidArgumentError(`${command.type} is not a command (use defineCommand)`);
    const replies = replyBuilder(command.replies) as ReplyBuilder<RepliesOf<C>>;
    this.consumer.handle(command, (tx, payload, message) =>
      this.handleCommand(tx as SqlStoreTransaction<H>, command, message, () => handler(tx, payload as PayloadOf<C>, replies, message)),
    );
    return this;
  }

  async start(): Promise<void> {
    await this.consumer.start();
    this.sweeper = setInterval(() => void this.sweep(), Math.min(this.retentionMs, 3_600_000));
    this.sweeper.unref?.();
  }

  async stop(): Promise<void> {
    clearInterval(this.sweeper);
    await this.consumer.stop();
  }

  /** Deletes barrier and inbox rows past the retention period. */
  async sweep(): Promise<{ barrier: number; inbox: number }> {
    const olderThan = this.clock.now() - this.retentionMs;
    const barrier = await this.options.store.driver.run((exec) => this.barrier.purge(exec, olderThan));
    const inbox = await this.options.store.purgeInbox(this.retentionMs);
    if (barrier + inbox > 0) this.logger.info({ barrier, inbox }, 'purged barrier and inbox rows past retention');
    return { barrier, inbox };
  }

  private async handleCommand<C extends CommandDefinition>(
    tx: SqlStoreTransaction<H>,
    command: C,
    message: MessageEnvelope,
    run: () => ReplyToken<ReplySchemas> | Promise<ReplyToken<ReplySchemas>>,
  ): Promise<void> {
    const h = message.headers;
    const sagaId = h[MessageHeader.sagaId];
    const step = h[MessageHeader.sagaStep];
    const action = h[MessageHeader.sagaAction] as SagaAction | undefined;
    const replyChannel = h[MessageHeader.replyChannel];
    const attempt = Number(h[SAGA_ATTEMPT_HEADER] ?? '1') || 1;
    if (!sagaId || !step || (action !== 'invoke' && action !== 'compensate')) {
      // Not from a saga: no barrier; reply only if asked to.
      const token = await this.checked(command, await run());
      if (replyChannel) await this.sendReply(tx, replyChannel, { sagaId: sagaId ?? message.id, step: step ?? '', action: 'invoke', attempt, reply: token.reply, body: token.payload });
      return;
    }
    const decision = await this.barrier.enter(tx.exec, sagaId, step, action, attempt, this.clock.now());
    let reply: string;
    let body: unknown;
    switch (decision.kind) {
      case 'blocked':
        this.logger.info({ sagaId, step, action, messageId: message.id }, 'command arrived after its compensation: not run');
        return;
      case 'recorded':
        ({ reply, body } = decision);
        break;
      case 'null-compensation':
        reply = NULL_COMPENSATION_REPLY;
        body = {};
        await this.barrier.record(tx.exec, sagaId, step, action, attempt, reply, body);
        break;
      case 'run': {
        const token = await this.checked(command, await run());
        reply = token.reply;
        body = token.payload;
        await this.barrier.record(tx.exec, sagaId, step, action, attempt, reply, body);
      }
    }
    if (replyChannel) await this.sendReply(tx, replyChannel, { sagaId, step, action, attempt, reply, body });
  }

  private async checked(command: CommandDefinition, token: ReplyToken<ReplySchemas>): Promise<ReplyToken<ReplySchemas>> {
    const schema = token && command.replies[token.reply];
    if (!schema) {
      throw new InvalidArgumentError(`handler of ${command.type} returned ${JSON.stringify(token?.reply)}, not one of its declared replies`);
    }
    await validatePayload(schema, token.payload, `${command.type} reply ${token.reply}`, 'send');
    return token;
  }

  private async sendReply(
    tx: SqlStoreTransaction<H>,
    channel: string,
    payload: { sagaId: string; step: string; action: SagaAction; attempt: number; reply: string; body: unknown },
  ): Promise<void> {
    await tx.outbox.send(sagaReplyMessage(channel), payload);
  }
}

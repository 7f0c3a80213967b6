import { IllegalStateError, NotFoundError } from '../errors.js';
import { MessageHeader, type MessageEnvelope } from '../message/envelope.js';
import type { SqlDialect, SqlExecutor } from '../sql/sql-driver.js';
import type { SagaAction } from './saga-instance.js';

/** What a handler returns to promise an answer later (`reply.later()`). */
export interface DeferredReply {
  readonly deferred: true;
}

export const DEFERRED: DeferredReply = Object.freeze({ deferred: true as const });

export function isDeferredReply(value: unknown): value is DeferredReply {
  return typeof value === 'object' && value !== null && (value as { deferred?: unknown }).deferred === true;
}

/**
 * The id under which a deferred reply is answered: the command's idempotency key (saga id,
 * step, action, attempt), so a person or an external system can be handed it and answer once.
 */
export function deferredReplyId(message: MessageEnvelope): string {
  return message.headers[MessageHeader.idempotencyKey] ?? message.id;
}

export interface PendingReply {
  readonly deferredId: string;
  readonly sagaId: string;
  readonly step: string;
  readonly action: SagaAction;
  readonly attempt: number;
  readonly commandType: string;
  readonly replyChannel: string;
  readonly createdAt: number;
}

type Row = Record<string, unknown>;

/** Replies a participant promised and has not sent yet, in its own database. */
export class DeferredReplies {
  constructor(private readonly d: SqlDialect) {}

  private get table() {
    return this.d.table('deferred_replies');
  }

  async record(exec: SqlExecutor, reply: PendingReply): Promise<void> {
    await exec.execute(
      this.d.insertIgnore(this.table, [
        'deferred_id',
        'saga_id',
        'step',
        'action',
        'attempt',
        'command_type',
        'reply_channel',
        'created_at',
      ]),
      [
        reply.deferredId,
        reply.sagaId,
        reply.step,
        reply.action,
        reply.attempt,
        reply.commandType,
        reply.replyChannel,
        reply.createdAt,
      ],
    );
  }

  /** Marks the promise kept; throws when it is unknown, of another command, or answered already. */
  async take(exec: SqlExecutor, deferredId: string, commandType: string, now: number): Promise<PendingReply> {
    const rows = await exec.query<Row>(
      `SELECT * FROM ${this.table} WHERE deferred_id = ?${this.d.forUpdate}`,
      [deferredId],
    );
    const row = rows[0];
    if (!row) throw new NotFoundError('deferred reply', deferredId);
    if (String(row.command_type) !== commandType) {
      throw new IllegalStateError(
        `deferred reply ${deferredId} answers ${String(row.command_type)}, not ${commandType}`,
      );
    }
    if (row.answered_at != null)
      throw new IllegalStateError(`deferred reply ${deferredId} was answered already`);
    await exec.execute(`UPDATE ${this.table} SET answered_at = ? WHERE deferred_id = ?`, [now, deferredId]);
    return fromRow(row);
  }

  async pending(exec: SqlExecutor, limit = 100): Promise<PendingReply[]> {
    const rows = await exec.query<Row>(
      `SELECT * FROM ${this.table} WHERE answered_at IS NULL ORDER BY created_at LIMIT ?`,
      [limit],
    );
    return rows.map(fromRow);
  }
}

function fromRow(r: Row): PendingReply {
  return {
    deferredId: String(r.deferred_id),
    sagaId: String(r.saga_id),
    step: String(r.step),
    action: String(r.action) as SagaAction,
    attempt: Number(r.attempt),
    commandType: String(r.command_type),
    replyChannel: String(r.reply_channel),
    createdAt: Number(r.created_at),
  };
}

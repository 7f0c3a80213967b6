import { ConcordError, ConcordErrorCode, InvalidArgumentError } from '../errors.js';
import { systemClock, type Clock } from '../ports/clock.js';
import type { SqlDialect, SqlExecutor } from '../sql/sql-driver.js';
import { requestFingerprint } from './request-fingerprint.js';

/** The same key came with a different request: HTTP layers answer `422 Unprocessable Entity`. */
export class IdempotencyKeyReusedError extends ConcordError {
  readonly httpStatus = 422;
  constructor(
    readonly scope: string,
    readonly key: string,
  ) {
    super(
      ConcordErrorCode.IDEMPOTENCY_KEY_REUSED,
      `Idempotency-Key "${key}" was already used with a different request; ` +
        'send the original request again or use a new key for a new one',
    );
    this.name = 'IdempotencyKeyReusedError';
  }
}

export interface IdempotencyKeysOptions {
  readonly dialect: SqlDialect;
  /** Keeps the keys of different endpoints apart (`orders.create`). */
  readonly scope: string;
  /** How long a key is remembered; after that it may be used again for anything. */
  readonly ttlMs: number;
  readonly clock?: Clock;
}

export interface IdempotentResult<T> {
  readonly value: T;
  /** True when the key was seen before with the same request: nothing new was created. */
  readonly replayed: boolean;
}

type KeyRow = { fingerprint: string; response: string | null; expires_at: number | string };

/**
 * The server half of caller-assigned keys, for any HTTP framework: inside the transaction
 * that creates the object, `claim` binds the caller's key to what was created (and to a
 * fingerprint of the request). The same key with the same request returns the first answer
 * and creates nothing; with another request it throws `IdempotencyKeyReusedError`.
 */
export class IdempotencyKeys {
  private readonly clock: Clock;

  constructor(private readonly options: IdempotencyKeysOptions) {
    if (!(options.ttlMs > 0)) throw new InvalidArgumentError('idempotency key ttlMs must be positive');
    this.clock = options.clock ?? systemClock;
  }

  private get table(): string {
    return this.options.dialect.table('idempotency_keys');
  }

  /**
   * Runs `create` at most once per key (within the TTL) and returns its JSON-serializable
   * answer, or the answer recorded for this key. Call it inside the transaction that
   * creates the object, so the key and the object commit together or not at all.
   */
  async claim<T>(
    sql: SqlExecutor,
    key: string,
    request: unknown,
    create: () => Promise<T>,
  ): Promise<IdempotentResult<T>> {
    const { dialect: d, scope, ttlMs } = this.options;
    const fingerprint = await requestFingerprint(request);
    const now = this.clock.now();
    const insert = () =>
      sql.execute(
        d.insertIgnore(this.table, [
          'scope',
          'idem_key',
          'fingerprint',
          'response',
          'created_at',
          'expires_at',
        ]),
        [scope, key, fingerprint, null, now, now + ttlMs],
      );
    // Insert first: on PostgreSQL and MySQL a concurrent request with the same key waits
    // here until this transaction ends, then finds the row instead of creating twice.
    let claimed = (await insert()) === 1;
    if (!claimed) {
      const row = (
        await sql.query<KeyRow>(
          `SELECT fingerprint, response, expires_at FROM ${this.table} WHERE scope = ? AND idem_key = ?${d.forUpdate}`,
          [scope, key],
        )
      )[0];
      if (row && Number(row.expires_at) > now) {
        if (row.fingerprint !== fingerprint) throw new IdempotencyKeyReusedError(scope, key);
        return { value: JSON.parse(row.response ?? 'null') as T, replayed: true };
      }
      // Expired: the key is free again.
      await sql.execute(`DELETE FROM ${this.table} WHERE scope = ? AND idem_key = ?`, [scope, key]);
      claimed = (await insert()) === 1;
      if (!claimed)
        throw new ConcordError(
          ConcordErrorCode.CONCURRENCY_CONFLICT,
          `idempotency key ${key} was claimed concurrently`,
        );
    }
    const value = await create();
    await sql.execute(`UPDATE ${this.table} SET response = ? WHERE scope = ? AND idem_key = ?`, [
      JSON.stringify(value ?? null),
      scope,
      key,
    ]);
    return { value, replayed: false };
  }

  /** Deletes expired keys of this scope; returns how many went. Run it now and then. */
  purgeExpired(sql: SqlExecutor): Promise<number> {
    return sql.execute(`DELETE FROM ${this.table} WHERE scope = ? AND expires_at <= ?`, [
      this.options.scope,
      this.clock.now(),
    ]);
  }
}

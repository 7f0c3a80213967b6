import { InvalidArgumentError } from '@concord/core';
import { connect } from './redis-connect.js';
import type { RedisConnectionOptions } from './redis-options.js';
import { execPipeline } from './redis-broker.js';
import type { RedisArg, RedisClient } from './redis-client.js';
import { replyPairs } from './redis-client.js';
import { deleteKeysWithPrefix } from './delete-keys.js';
import { RedisCommandError, RedisUnexpectedReplyError } from './redis-errors.js';
import { assertName } from './redis-names.js';
import { applyViewUpdateScript } from './view-script.js';
import { assertPath, flatten, unflatten, type DeepPartial } from './view-paths.js';

export interface ViewUpdate<T> {
  /** The event behind the update: each is applied once per view entity; a redelivery is a no-op. */
  readonly eventId: string;
  /**
   * The event's position in the history of the aggregate that owns the fields it writes
   * (usually the aggregate version). A field keeps the value written by the highest version,
   * whatever order events arrive in; an equal or lower version is stale for that field.
   */
  readonly version: number;
  /** Fields to write, as a nested part of the view (arrays and empty objects are whole values). */
  readonly set?: DeepPartial<T>;
  /** Commutative additions to numeric fields, by dotted path (`'stats.orders'`), once per event. */
  readonly increment?: Readonly<Record<string, number>>;
  /** Fields to remove, by dotted path; versioned like `set`. */
  readonly unset?: readonly string[];
}

export interface ViewUpdateResult {
  /** The event id was already applied to this entity: nothing changed. */
  readonly duplicate: boolean;
  /** Fields written, incremented or removed. */
  readonly applied: number;
  /** Fields skipped because a newer version had already written them. */
  readonly stale: number;
}

export interface RedisViewStoreOptions<T> {
  /** The view's name, part of its keys: `<keyPrefix>view:<name>:{<id>}`. */
  readonly name: string;
  readonly keyPrefix?: string;
  /** Checks or converts what `get` read (a schema's parse, for instance). Default: a cast. */
  readonly parse?: (raw: Record<string, unknown>) => T;
}

/**
 * CQRS views kept in Redis hashes, one per entity: each field of the view is a hash field
 * holding JSON (nested objects flattened to `a.b.c`), read back whole with one HGETALL.
 * Beside it, a hash of per-field versions and a set of processed event ids make updates
 * idempotent and order-independent: out-of-order and repeated events converge on one view.
 */
export class RedisViewStore<T extends object> {
  readonly name: string;
  private readonly prefix: string;
  private readonly parse: (raw: Record<string, unknown>) => T;

  constructor(
    readonly redis: RedisClient,
    options: RedisViewStoreOptions<T>,
    private readonly ownsClient = false,
  ) {
    assertName('view name', options.name);
    const keyPrefix = options.keyPrefix ?? 'concord:';
    if (/[{}\s]/.test(keyPrefix))
      throw new InvalidArgumentError(`keyPrefix must not contain braces or spaces: "${keyPrefix}"`);
    this.name = options.name;
    this.prefix = `${keyPrefix}view:${options.name}:`;
    this.parse = options.parse ?? ((raw) => raw as T);
  }

  /** The keys of one entity's view; the braces keep them in one Redis Cluster slot. */
  keysOf(id: string | number): { data: string; versions: string; events: string } {
    const key = String(id);
    if (key.length === 0) throw new InvalidArgumentError('view id must not be empty');
    const data = `${this.prefix}{${key}}`;
    return { data, versions: `${data}:versions`, events: `${data}:events` };
  }

  async get(id: string | number): Promise<T | undefined> {
    let reply: unknown;
    try {
      reply = await this.redis.call('HGETALL', this.keysOf(id).data);
    } catch (error) {
      throw new RedisCommandError('HGETALL', error);
    }
    return this.decode(reply);
  }

  /** Several views in one round trip, in the order of `ids`. */
  async getMany(ids: ReadonlyArray<string | number>): Promise<Array<T | undefined>> {
    if (ids.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const id of ids) pipeline.call('HGETALL', this.keysOf(id).data);
    const replies = await execPipeline(pipeline, 'HGETALL');
    return replies.map((r) => this.decode(r));
  }

  private decode(reply: unknown): T | undefined {
    const pairs = replyPairs(reply);
    if (pairs.length === 0) return undefined;
    try {
      return this.parse(unflatten(pairs));
    } catch (error) {
      if (error instanceof SyntaxError)
        throw new RedisUnexpectedReplyError(`view ${this.name} (not JSON fields)`, reply);
      throw error;
    }
  }

  /** Applies one event's changes atomically (one Lua script), idempotently and version-checked. */
  async apply(id: string | number, update: ViewUpdate<T>): Promise<ViewUpdateResult> {
    const { eventId, version } = update;
    if (typeof eventId !== 'string' || eventId.length === 0)
      throw new InvalidArgumentError('view update: eventId is required');
    if (!Number.isSafeInteger(version) || version < 0) {
      throw new InvalidArgumentError(
        `view update: version must be a non-negative safe integer, got ${version}`,
      );
    }
    const sets = update.set ? flatten(update.set as Record<string, unknown>) : [];
    const increments = Object.entries(update.increment ?? {});
    for (const [path, amount] of increments) {
      assertPath(path);
      if (typeof amount !== 'number' || !Number.isFinite(amount)) {
        throw new InvalidArgumentError(`view update: increment of ${path} must be a finite number`);
      }
    }
    const unsets = update.unset ?? [];
    unsets.forEach(assertPath);
    const args: RedisArg[] = [eventId, version, sets.length, ...sets.flat(), increments.length];
    for (const [path, amount] of increments) args.push(path, String(amount));
    args.push(unsets.length, ...unsets);
    const k = this.keysOf(id);
    let reply: unknown;
    try {
      reply = await applyViewUpdateScript.run(this.redis, [k.data, k.versions, k.events], args);
    } catch (error) {
      throw new RedisCommandError('view update', error);
    }
    if (!Array.isArray(reply) || reply.length !== 3)
      throw new RedisUnexpectedReplyError('view update', reply);
    return { duplicate: Number(reply[0]) === 1, applied: Number(reply[1]), stale: Number(reply[2]) };
  }

  /** Deletes one entity's view with its versions and processed ids. */
  async delete(id: string | number): Promise<boolean> {
    const k = this.keysOf(id);
    try {
      return Number(await this.redis.call('UNLINK', k.data, k.versions, k.events)) > 0;
    } catch (error) {
      throw new RedisCommandError('UNLINK', error);
    }
  }

  /**
   * Deletes every entity of this view, before a rebuild replays the events. Readers see views
   * disappear while it runs; rebuild under another name and switch if that matters.
   */
  async drop(): Promise<number> {
    try {
      // `{` ends the view name, so a view named `<name>:v2` is not caught by this prefix.
      return await deleteKeysWithPrefix(this.redis, `${this.prefix}{`);
    } catch (error) {
      throw new RedisCommandError('drop view', error);
    }
  }

  async close(): Promise<void> {
    if (this.ownsClient) await this.redis.quit().catch(() => undefined);
  }
}

/** Opens a view store on its own connection (`url`) or on yours (`redis`, left open on close). */
export function openRedisViewStore<T extends object>(
  options: RedisConnectionOptions & RedisViewStoreOptions<T>,
): RedisViewStore<T> {
  const { redis, owned } = connect(options, 'concord-views');
  return new RedisViewStore<T>(redis, options, owned);
}

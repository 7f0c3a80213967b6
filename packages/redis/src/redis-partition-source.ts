import type { MessageEnvelope } from '@concord/core';
import type { OpenPartition, PartitionReader, PartitionRef, PartitionSource, ReadOutcome } from '@concord/core/spi';
import { envelopeFromFields } from './envelope-codec.js';
import { isReplyError } from './redis-client.js';
import { execPipeline, type RedisBroker } from './redis-broker.js';
import { RedisUnexpectedReplyError } from './redis-errors.js';
import { readScript, trimScript } from './redis-script.js';

/**
 * The Redis consumer name every owner of a partition uses. A stream is one partition and a
 * lease lets one member read it at a time, so a single name makes the group's pending list
 * the partition's: a new owner re-reads it from id 0 and nothing is stranded under the name
 * of a member that died. (Entries pending under another name, from other tools or an older
 * layout, are claimed with XAUTOCLAIM whenever the pending list is read from the start.)
 */
export const PARTITION_CONSUMER = 'partition-owner';

type Entry = [id: string, fields: unknown[] | null | false];

/**
 * A group's partitions as Redis streams, one per (channel, partition), read through the
 * stream's consumer group: the group's position is the server's (last delivered id plus the
 * pending list), created at id 0 so a new group reads from the oldest retained entry.
 */
export class RedisPartitionSource implements PartitionSource<string[]> {
  readonly idleWaitMs: number;

  constructor(
    private readonly broker: RedisBroker,
    private readonly group: string,
    private readonly memberId: string,
  ) {
    this.idleWaitMs = broker.settings.pollIntervalMs;
  }

  /** Creates the group on each partition stream at id 0, so earlier messages are delivered too. */
  async prepare(partitions: readonly PartitionRef[]): Promise<void> {
    const pipeline = this.broker.redis.pipeline();
    for (const p of partitions) pipeline.call('XGROUP', 'CREATE', this.broker.keys.stream(p.channel, p.partition), this.group, '0', 'MKSTREAM');
    const results = (await pipeline.exec()) ?? [];
    const failed = results.find(([error]) => error && !isReplyError(error, 'BUSYGROUP'));
    if (failed) await execPipeline({ exec: async () => [failed] }, 'XGROUP CREATE');
  }

  async open(partition: PartitionRef, context: OpenPartition): Promise<PartitionReader<string[]>> {
    return new RedisPartitionReader(this.broker, this, this.group, this.memberId, partition, context);
  }
}

/**
 * One partition stream opened for its owner. It first pages through the pending list (a batch
 * the previous owner or a failed attempt left unacknowledged), then reads new entries, each
 * read fenced on the lease. A commit acknowledges the batch's entries.
 */
class RedisPartitionReader implements PartitionReader<string[]> {
  private readonly removeWaker: () => void;
  private readonly stream: string;
  private readonly lease: string;
  /** Where to continue in the pending list, or null once it is drained. */
  private pendingFrom: string | null = '0';
  private lastTrim: number;

  constructor(
    private readonly broker: RedisBroker,
    private readonly source: RedisPartitionSource,
    private readonly group: string,
    private readonly memberId: string,
    private readonly p: PartitionRef,
    context: OpenPartition,
  ) {
    this.stream = broker.keys.stream(p.channel, p.partition);
    this.lease = broker.keys.lease(group, p.channel, p.partition);
    this.removeWaker = broker.addWaker(p.channel, p.partition, context.wake);
    this.lastTrim = broker.settings.clock.now();
  }

  async read(requested: number): Promise<ReadOutcome<string[]>> {
    const { redis, settings } = this.broker;
    const max = Math.min(requested, 1000);
    const claim = this.pendingFrom === '0' ? '1' : '0';
    let reply: unknown;
    try {
      reply = await readScript.run(redis, [this.lease, this.stream], [this.memberId, settings.leaseMs, this.group, PARTITION_CONSUMER, max, this.pendingFrom ?? '>', claim]);
    } catch (error) {
      if (isReplyError(error, 'NOGROUP')) {
        // The stream or the group is gone (a restarted Redis without persistence): recreate.
        settings.logger.warn({ group: this.group, channel: this.p.channel, partition: this.p.partition }, 'consumer group missing; creating it again');
        await this.source.prepare([this.p]).catch(() => undefined);
      }
      throw error;
    }
    if (reply === -1) return 'lost';
    if (!Array.isArray(reply)) throw new RedisUnexpectedReplyError('XREADGROUP', reply);
    const entries = reply as Entry[];
    if (entries.length === 0) {
      if (this.pendingFrom !== null) {
        this.pendingFrom = null;
        return this.read(max);
      }
      await this.trimIfDue();
      return 'idle';
    }
    const fromPending = this.pendingFrom !== null;
    if (fromPending) this.pendingFrom = entries[entries.length - 1]![0];
    return { messages: this.decode(entries), position: entries.map(([id]) => id), caughtUp: !fromPending && entries.length < max };
  }

  private decode(entries: readonly Entry[]): MessageEnvelope[] {
    const log = this.broker.settings.logger;
    const messages: MessageEnvelope[] = [];
    for (const [id, fields] of entries) {
      if (!fields) {
        // Deleted by hand (XDEL) before this group acknowledged it: trimming never does that.
        log.error({ group: this.group, stream: this.stream, entryId: id }, 'pending stream entry was trimmed before it was delivered; skipping it');
        continue;
      }
      try {
        messages.push(envelopeFromFields(this.p.channel, fields));
      } catch (error) {
        log.error({ err: error, stream: this.stream, entryId: id }, 'stream entry is not a Concord envelope; skipping it');
      }
    }
    return messages;
  }

  async commit(ids: string[]): Promise<boolean> {
    await this.broker.redis.call('XACK', this.stream, this.group, ...ids);
    return true;
  }

  async close(): Promise<void> {
    this.removeWaker();
  }

  /** Trims the stream of what every group acknowledged, at most once per trimIntervalMs, when idle. */
  private async trimIfDue(): Promise<void> {
    const { retentionMs, maxLen, trimIntervalMs, clock, logger } = this.broker.settings;
    const now = clock.now();
    if (now - this.lastTrim < trimIntervalMs) return;
    this.lastTrim = now;
    if (retentionMs === null && maxLen === null) return;
    try {
      await trimScript.run(this.broker.redis, [this.stream], [retentionMs ?? 0, maxLen ?? 0]);
    } catch (error) {
      logger.warn({ err: error, stream: this.stream }, 'could not trim stream');
    }
  }
}

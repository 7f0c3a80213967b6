import { ConcordErrorCode, isConcordError, defaultBackoff, type MessageEnvelope } from '@concord/core';
import { backoffDelay, WakeSignal, type SubscribeOptions } from '@concord/core/spi';
import { envelopeFromFields } from './envelope-codec.js';
import { isReplyError } from './redis-client.js';
import type { RedisBroker } from './redis-broker.js';
import { RedisUnexpectedReplyError } from './redis-errors.js';
import { readScript, trimScript } from './redis-script.js';
import type { RedisBrokerSubscription } from './redis-subscription.js';

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
 * Delivers one partition stream to one group member in stream order. It first pages through
 * the pending list (a batch the previous owner or a failed attempt left unacknowledged), then
 * reads new entries. Each batch is acknowledged after the handler resolved; a rejected batch
 * sends the worker back to the start of the pending list, so it comes again, in order.
 */
export class RedisPartitionConsumer {
  private readonly wakeSignal = new WakeSignal();
  private readonly abort = new AbortController();
  private loop: Promise<void> | undefined;
  private removeWaker: (() => void) | undefined;
  /** Set when the fenced read found another member holding the lease. */
  lost = false;

  constructor(
    private readonly broker: RedisBroker,
    private readonly options: SubscribeOptions,
    private readonly member: RedisBrokerSubscription,
    readonly channel: string,
    readonly partition: number,
  ) {}

  start(): void {
    this.removeWaker = this.broker.addWaker(this.channel, this.partition, this.wakeSignal);
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.abort.abort();
    this.removeWaker?.();
    await this.loop;
  }

  private async run(): Promise<void> {
    const { redis, keys, settings } = this.broker;
    const { logger, clock, leaseMs, pollIntervalMs } = settings;
    const group = this.options.group;
    const stream = keys.stream(this.channel, this.partition);
    const lease = keys.lease(group, this.channel, this.partition);
    const count = Math.min(this.options.maxBatchSize ?? settings.maxBatchSize, 1000);
    const signal = this.abort.signal;
    const log = logger.child({ group, channel: this.channel, partition: this.partition });
    /** Where to continue in the pending list, or null once it is drained. */
    let pendingFrom: string | null = '0';
    let failures = 0;
    let lastTrim = clock.now();

    while (!signal.aborted) {
      try {
        const claim = pendingFrom === '0' ? '1' : '0';
        const reply = await readScript.run(
          redis,
          [lease, stream],
          [this.member.memberId, leaseMs, group, PARTITION_CONSUMER, count, pendingFrom ?? '>', claim],
        );
        if (reply === -1) {
          this.lost = true;
          log.info({}, 'partition lease taken by another member; stopping');
          return;
        }
        if (!Array.isArray(reply)) throw new RedisUnexpectedReplyError('XREADGROUP', reply);
        const entries = reply as Entry[];
        if (entries.length === 0) {
          if (pendingFrom !== null) {
            pendingFrom = null;
            continue;
          }
          if (clock.now() - lastTrim >= settings.trimIntervalMs)
            lastTrim = await this.trim(stream, clock.now());
          await this.wakeSignal.wait(pollIntervalMs, signal);
          continue;
        }
        if (pendingFrom !== null) pendingFrom = entries[entries.length - 1]![0];
        const messages: MessageEnvelope[] = [];
        for (const [id, fields] of entries) {
          if (!fields) {
            // Deleted by hand (XDEL) before this group acknowledged it: trimming never does that.
            log.error(
              { entryId: id },
              'pending stream entry was trimmed before it was delivered; skipping it',
            );
            continue;
          }
          try {
            messages.push(envelopeFromFields(this.channel, fields));
          } catch (error) {
            log.error({ err: error, entryId: id }, 'stream entry is not a Concord envelope; skipping it');
          }
        }
        // Checked before the handler only: a batch that started is finished and acknowledged.
        if (signal.aborted) return;
        if (messages.length > 0)
          await this.options.handler({ channel: this.channel, partition: this.partition, messages });
        await redis.call('XACK', stream, group, ...entries.map(([id]) => id));
        failures = 0;
      } catch (error) {
        if (isReplyError(error, 'NOGROUP')) {
          // The stream or the group is gone (a restarted Redis without persistence): recreate.
          log.warn({}, 'consumer group missing; creating it again');
          await this.member.recreateGroup(this.channel, this.partition).catch(() => undefined);
        } else if (signal.aborted) {
          return;
        } else if (isConcordError(error, ConcordErrorCode.CLOSED)) {
          log.debug({}, 'handler closed while stopping; batch left pending');
        } else {
          log.warn({ err: error, failures: failures + 1 }, 'batch not acknowledged; delivering again');
        }
        failures++;
        pendingFrom = '0';
        await clock.sleep(backoffDelay(defaultBackoff, failures), signal);
      }
    }
  }

  private async trim(stream: string, now: number): Promise<number> {
    const { retentionMs, maxLen } = this.broker.settings;
    if (retentionMs === null && maxLen === null) return now;
    try {
      await trimScript.run(this.broker.redis, [stream], [retentionMs ?? 0, maxLen ?? 0]);
    } catch (error) {
      this.broker.settings.logger.warn({ err: error, stream }, 'could not trim stream');
    }
    return now;
  }
}

import { InvalidArgumentError } from '@concord/core';
import { DiscardPolicy, RetentionPolicy, StorageType, type JetStreamManager } from '@nats-io/jetstream';
import { NatsTopologyError } from './nats-errors.js';
import type { NatsNames } from './nats-names.js';
import type { NatsBrokerSettings } from './nats-options.js';
import type { RecordBucket } from './record-bucket.js';
import { ensureStream, nanos } from './streams.js';

const CHANNEL = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,189}$/;

/**
 * Knows each channel's partition count and makes sure its stream exists. The count is written
 * once, create-only, in the meta bucket: the first instance to touch a channel decides it and
 * every other instance (with whatever `partitions` option) reads the same number.
 */
export class ChannelTopology {
  private readonly known = new Map<string, Promise<number>>();

  constructor(
    private readonly jsm: JetStreamManager,
    private readonly meta: RecordBucket,
    private readonly names: NatsNames,
    private readonly settings: NatsBrokerSettings,
  ) {}

  partitionsOf(channel: string): Promise<number> {
    let known = this.known.get(channel);
    if (!known) {
      known = this.load(channel);
      this.known.set(channel, known);
      known.catch(() => this.known.delete(channel));
    }
    return known;
  }

  /** Forgets what we know, so the next use checks the stream again (it may have been deleted). */
  forget(channel: string): void {
    this.known.delete(channel);
  }

  private async load(channel: string): Promise<number> {
    if (!CHANNEL.test(channel)) throw new InvalidArgumentError(`channel "${channel}" is not a valid channel name`);
    const key = this.names.partitionsKey(channel);
    let recorded = await this.meta.get(key);
    if (!recorded) {
      const created = await this.meta.create(key, String(this.settings.partitions));
      recorded = created === undefined ? await this.meta.get(key) : { value: String(this.settings.partitions), revision: created };
    }
    const partitions = Number(recorded?.value);
    if (!Number.isInteger(partitions) || partitions < 1) {
      throw new NatsTopologyError(`partition count of channel ${channel} is unreadable: ${recorded?.value}`);
    }
    const { retentionMs, duplicateWindowMs, storage, replicas } = this.settings;
    await ensureStream(this.jsm, {
      name: this.names.channelStream(channel),
      subjects: [this.names.channelSubjects(channel)],
      description: `Concord channel ${channel} (${partitions} partitions)`,
      retention: RetentionPolicy.Limits,
      discard: DiscardPolicy.Old,
      storage: storage === 'memory' ? StorageType.Memory : StorageType.File,
      max_age: nanos(retentionMs),
      duplicate_window: nanos(retentionMs > 0 ? Math.min(duplicateWindowMs, retentionMs) : duplicateWindowMs),
      num_replicas: replicas,
    });
    return partitions;
  }
}

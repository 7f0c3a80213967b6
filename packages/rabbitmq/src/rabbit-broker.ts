import { ClosedError, InvalidArgumentError, type Broker, type MessageEnvelope } from '@concord/core';
import { type BrokerCapabilities, type SubscribeOptions, type Subscription } from '@concord/core/spi';
import { ChannelTopology } from './channel-topology.js';
import { RabbitConnection } from './rabbit-connection.js';
import { RabbitNames } from './rabbit-names.js';
import { resolveSettings, type RabbitBrokerOptions, type RabbitBrokerSettings } from './rabbit-options.js';
import { RabbitPublisher } from './rabbit-publisher.js';
import { RabbitSubscription } from './rabbit-subscription.js';

export interface UsedTopology {
  readonly channels: readonly string[];
  readonly groups: ReadonlyArray<{ readonly group: string; readonly channels: readonly string[] }>;
}

const NAME = /^[A-Za-z0-9._:-]{1,190}$/;

/**
 * The Broker port on RabbitMQ. Each partition of a channel is a stream; each consumer group
 * keeps, per partition, a single-active-consumer quorum queue holding its committed offset
 * (the lease). See docs/decisions/024-rabbitmq-partitions.md for why.
 */
export class RabbitBroker implements Broker {
  readonly name = 'rabbitmq';
  // A stream confirms a publish in about 20 ms (fsync and replication batching): relays keep
  // several rounds out so rows committed meanwhile do not wait for it.
  readonly capabilities: BrokerCapabilities = { partitionedConsumers: true, durable: true, relayRoundsInFlight: 4 };
  readonly names: RabbitNames;
  private readonly topology: ChannelTopology;
  private readonly publisher: RabbitPublisher;
  private readonly subscriptions = new Set<RabbitSubscription>();
  private readonly groups = new Map<string, Set<string>>();
  private readonly inFlight = new Set<Promise<unknown>>();
  private closed = false;

  constructor(
    private readonly connection: RabbitConnection,
    readonly settings: RabbitBrokerSettings,
  ) {
    this.names = new RabbitNames(settings.prefix);
    this.topology = new ChannelTopology(connection, this.names, settings);
    this.publisher = new RabbitPublisher(connection, this.topology, this.names, settings);
  }

  /** The RabbitMQ version this broker talks to, e.g. `3.10.8`. */
  get serverVersion(): string | undefined {
    return this.connection.serverVersion;
  }

  publish(messages: readonly MessageEnvelope[]): Promise<void> {
    if (this.closed) return Promise.reject(new ClosedError('rabbitmq broker'));
    for (const m of messages) assertName('channel', m.channel);
    return this.track(this.publisher.publish(messages));
  }

  async subscribe(options: SubscribeOptions): Promise<Subscription> {
    if (this.closed) throw new ClosedError('rabbitmq broker');
    assertName('consumer group', options.group);
    if (options.channels.length === 0) throw new InvalidArgumentError('subscribe: channels must not be empty');
    for (const channel of options.channels) assertName('channel', channel);
    const known = this.groups.get(options.group) ?? new Set<string>();
    for (const channel of options.channels) known.add(channel);
    this.groups.set(options.group, known);
    const subscription = new RabbitSubscription(this.connection, this.topology, this.names, this.settings, options);
    await subscription.start();
    this.subscriptions.add(subscription);
    return {
      assignedPartitions: () => subscription.assignedPartitions(),
      close: async () => {
        this.subscriptions.delete(subscription);
        await subscription.close();
      },
    };
  }

  /** The partition count of a channel, creating its streams if they do not exist yet. */
  partitionsOf(channel: string): Promise<number> {
    assertName('channel', channel);
    return this.topology.partitionsOf(channel);
  }

  /**
   * Deletes a channel's streams (every group's copy of its messages goes with them). For
   * tear-down scripts and tests; lease queues of its groups stay, see `deleteGroup`.
   */
  deleteChannel(channel: string): Promise<void> {
    assertName('channel', channel);
    return this.topology.deleteChannel(channel);
  }

  /** Deletes a group's lease queues (its committed offsets) on the given channels. */
  async deleteGroup(group: string, channels: readonly string[]): Promise<void> {
    assertName('consumer group', group);
    for (const channel of channels) {
      assertName('channel', channel);
      await this.topology.deleteGroup(group, channel);
    }
  }

  /**
   * The channels and groups this instance published to or subscribed with, still known after
   * `close()`: what a test hands to `deleteTopology` on another broker to clean up.
   */
  usedTopology(): UsedTopology {
    return {
      channels: this.topology.channels(),
      groups: [...this.groups].map(([group, channels]) => ({ group, channels: [...channels] })),
    };
  }

  /** Deletes groups' lease queues, then channels' streams. */
  async deleteTopology(topology: UsedTopology): Promise<void> {
    for (const { group, channels } of topology.groups) await this.deleteGroup(group, channels);
    for (const channel of topology.channels) await this.deleteChannel(channel);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.subscriptions].map((s) => s.close()));
    this.subscriptions.clear();
    await Promise.allSettled([...this.inFlight]);
    await this.publisher.close();
    await this.connection.close();
  }

  private track<T>(promise: Promise<T>): Promise<T> {
    this.inFlight.add(promise);
    const done = () => this.inFlight.delete(promise);
    promise.then(done, done);
    return promise;
  }
}

function assertName(what: string, name: string): void {
  if (typeof name !== 'string' || !NAME.test(name)) {
    throw new InvalidArgumentError(`${what} "${String(name)}" must be 1-190 characters of letters, digits, '.', '_', ':' or '-'`);
  }
}

/** Connects to RabbitMQ (retrying `connectAttempts` times) and returns the broker. */
export async function openRabbitBroker(options: RabbitBrokerOptions): Promise<RabbitBroker> {
  const settings = resolveSettings(options);
  const connection = await RabbitConnection.open(options.url, settings);
  return new RabbitBroker(connection, settings);
}

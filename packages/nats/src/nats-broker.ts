import { ClosedError, InvalidArgumentError, type Broker, type MessageEnvelope } from '@concord/core';
import { type SubscribeOptions, type Subscription } from '@concord/core/spi';
import { DiscardPolicy, jetstreamManager, StorageType } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { BrokerContext } from './broker-context.js';
import { ChannelTopology } from './channel-topology.js';
import { GroupMember } from './group-member.js';
import { NatsConnectionError } from './nats-errors.js';
import { NatsNames } from './nats-names.js';
import { resolveSettings, type NatsBrokerOptions, type NatsBrokerSettings } from './nats-options.js';
import { NatsPublisher } from './nats-publisher.js';
import { RecordBucket } from './record-bucket.js';
import { ReplyMux } from './reply-mux.js';
import { ensureStream, millis, nanos } from './streams.js';

const GROUP = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,189}$/;

/**
 * The Broker port on NATS JetStream: one stream per channel with a subject per partition,
 * one durable pull consumer per (group, channel, partition), and partition leases kept in a
 * JetStream stream so each partition has one consumer per group at a time.
 */
export class NatsBroker implements Broker {
  readonly name = 'nats';
  readonly capabilities = { partitionedConsumers: true, durable: true } as const;
  private readonly members = new Set<GroupMember>();
  private readonly publisher: NatsPublisher;
  private closed = false;

  constructor(private readonly ctx: BrokerContext) {
    this.publisher = new NatsPublisher(ctx.replies, ctx.topology, ctx.names);
    this.watchConnection().catch((error: unknown) => ctx.logger.debug({ err: error }, 'connection status stream ended'));
  }

  get settings(): NatsBrokerSettings {
    return this.ctx.settings;
  }

  /** The connection, for health checks; the broker owns it and closes it in `close()`. */
  get connection(): NatsConnection {
    return this.ctx.nc;
  }

  async publish(messages: readonly MessageEnvelope[]): Promise<void> {
    if (this.closed) throw new ClosedError('NATS broker');
    if (messages.length === 0) return;
    await this.publisher.publish(messages);
  }

  async subscribe(options: SubscribeOptions): Promise<Subscription> {
    if (this.closed) throw new ClosedError('NATS broker');
    if (!GROUP.test(options.group)) throw new InvalidArgumentError(`consumer group "${options.group}" is not a valid name`);
    if (options.channels.length === 0) throw new InvalidArgumentError('subscribe: channels must not be empty');
    const member = new GroupMember(this.ctx, options);
    this.members.add(member);
    try {
      await member.start();
    } catch (error) {
      this.members.delete(member);
      await member.close().catch(() => {});
      throw error;
    }
    return {
      assignedPartitions: () => member.assignedPartitions(),
      close: async () => {
        this.members.delete(member);
        await member.close();
      },
    };
  }

  /** The partition count of `channel` as every instance sees it, creating the channel if new. */
  partitionsOf(channel: string): Promise<number> {
    return this.ctx.topology.partitionsOf(channel);
  }

  /** The JetStream stream holding `channel`'s messages, for tooling and monitoring. */
  streamName(channel: string): string {
    return this.ctx.names.channelStream(channel);
  }

  /** Stops every subscription (batches in hand finish and are acknowledged), then drains the connection. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.members].map((m) => m.close()));
    this.members.clear();
    this.ctx.replies.close();
    if (!this.ctx.nc.isClosed()) await this.ctx.nc.drain().catch(() => this.ctx.nc.close());
  }

  /** Deletes every stream under this broker's prefix (channels, meta, leases): for tests and decommissioning. */
  async deleteStreams(): Promise<string[]> {
    const { jsm, names } = this.ctx;
    const deleted: string[] = [];
    for await (const name of jsm.streams.names()) {
      if (name === names.metaStream || name === names.leaseStream || name.startsWith(`${names.prefix}-ch-`)) {
        await jsm.streams.delete(name);
        deleted.push(name);
      }
    }
    return deleted;
  }

  private async watchConnection(): Promise<void> {
    for await (const status of this.ctx.nc.status()) {
      if (status.type === 'reconnect') {
        this.ctx.logger.info({ server: status.server }, 'reconnected to NATS');
        for (const m of this.members) m.requestAgain();
      } else if (status.type === 'disconnect') {
        this.ctx.logger.warn({ server: status.server }, 'disconnected from NATS; reconnecting');
      }
    }
  }
}

/**
 * Connects to NATS, creates the coordination streams when missing, and returns the broker.
 * The connection reconnects forever; publishes fail (and are retried by the relay) meanwhile.
 */
export async function openNatsBroker(options: NatsBrokerOptions): Promise<NatsBroker> {
  let settings = resolveSettings(options);
  const logger = settings.logger.child({ component: 'nats-broker' });
  let nc: NatsConnection;
  try {
    nc = await connect({
      servers: settings.servers,
      name: settings.connectionName,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
    });
  } catch (error) {
    throw new NatsConnectionError(settings.servers.join(','), error);
  }
  try {
    const jsm = await jetstreamManager(nc);
    const names = new NatsNames(settings.streamPrefix);
    const storage = settings.storage === 'memory' ? StorageType.Memory : StorageType.File;
    await ensureStream(jsm, {
      name: names.metaStream,
      subjects: [names.metaSubjects],
      description: 'Concord partition counts and consumer positions',
      max_msgs_per_subject: 1,
      discard: DiscardPolicy.Old,
      storage,
      num_replicas: settings.replicas,
    });
    const leaseConfig = await ensureStream(jsm, {
      name: names.leaseStream,
      subjects: [names.leaseSubjects],
      description: 'Concord group members and partition leases',
      max_msgs_per_subject: 1,
      max_age: nanos(settings.leaseMs),
      duplicate_window: nanos(settings.leaseMs),
      discard: DiscardPolicy.Old,
      storage,
      num_replicas: settings.replicas,
    });
    // The lease stream's max age is the lease time every instance must use.
    const recordedLeaseMs = millis(leaseConfig.max_age);
    if (recordedLeaseMs > 0 && recordedLeaseMs !== settings.leaseMs) {
      logger.warn({ configured: settings.leaseMs, recorded: recordedLeaseMs }, 'using the lease time recorded in the lease stream');
      settings = { ...settings, leaseMs: recordedLeaseMs };
    }
    const meta = new RecordBucket(nc, jsm, names.metaStream, settings.publishTimeoutMs);
    const leases = new RecordBucket(nc, jsm, names.leaseStream, settings.publishTimeoutMs);
    const topology = new ChannelTopology(jsm, meta, names, settings);
    const replies = new ReplyMux(nc, settings.publishTimeoutMs);
    return new NatsBroker({ nc, jsm, names, settings, logger, topology, meta, leases, replies });
  } catch (error) {
    await nc.close().catch(() => {});
    throw error;
  }
}

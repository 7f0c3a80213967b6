import type { Logger } from '@concord/core';
import type { JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { ChannelTopology } from './channel-topology.js';
import type { NatsNames } from './nats-names.js';
import type { NatsBrokerSettings } from './nats-options.js';
import type { RecordBucket } from './record-bucket.js';
import type { ReplyMux } from './reply-mux.js';

/** What the broker's parts share: one connection, the names, and the coordination buckets. */
export interface BrokerContext {
  readonly nc: NatsConnection;
  readonly jsm: JetStreamManager;
  readonly names: NatsNames;
  readonly settings: NatsBrokerSettings;
  readonly logger: Logger;
  readonly topology: ChannelTopology;
  /** Partition counts and saved consumer floors; never expire. */
  readonly meta: RecordBucket;
  /** Memberships and partition leases; expire after `leaseMs` without renewal. */
  readonly leases: RecordBucket;
  /** Request/reply for the hot paths: PubAcks and confirmed message acks. */
  readonly replies: ReplyMux;
}

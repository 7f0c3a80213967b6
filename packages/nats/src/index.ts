export { NatsBroker, openNatsBroker } from './nats-broker.js';
export type { NatsBrokerOptions, NatsBrokerSettings } from './nats-options.js';
export {
  isNatsBrokerError,
  NatsBrokerError,
  NatsConnectionError,
  NatsErrorReason,
  NatsPublishError,
  NatsTopologyError,
} from './nats-errors.js';

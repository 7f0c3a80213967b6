export { RabbitBroker, openRabbitBroker, type UsedTopology } from './rabbit-broker.js';
export type { RabbitBrokerOptions, RabbitBrokerSettings, StreamRetention } from './rabbit-options.js';
export {
  BadEnvelopeError,
  PartitionMismatchError,
  RabbitError,
  RabbitErrorReason,
  RabbitPublishRejectedError,
  RabbitUnavailableError,
  isRabbitError,
} from './rabbit-errors.js';

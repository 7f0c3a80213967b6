export { RabbitBroker, openRabbitBroker, type UsedTopology } from './rabbit-broker.js';
export type { RabbitBrokerOptions, RabbitBrokerSettings, StreamRetention } from './rabbit-options.js';
export { RabbitNames } from './rabbit-names.js';
export { assignPartitions, type GroupMemberView } from './assignment.js';
export { decodeEnvelope, encodeEnvelope, ENVELOPE_CONTENT_TYPE } from './envelope-codec.js';
export {
  BadEnvelopeError,
  PartitionMismatchError,
  RabbitError,
  RabbitErrorCode,
  RabbitPublishRejectedError,
  RabbitUnavailableError,
  isRabbitError,
} from './rabbit-errors.js';

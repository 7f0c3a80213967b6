/**
 * The adapter SPI of @concord/rabbitmq: the RabbitMQ parts that other adapters, tools, benchmarks
 * and tests build on (drivers, dialects, codecs, key and name layouts). Applications use
 * '@concord/rabbitmq'; see ARCHITECTURE.md, "Adapters".
 */
export { RabbitNames } from './rabbit-names.js';
export { assignPartitions, type GroupMemberView } from './assignment.js';
export { decodeEnvelope, encodeEnvelope, ENVELOPE_CONTENT_TYPE } from './envelope-codec.js';

/**
 * The adapter SPI of @concord/nats: the NATS JetStream parts that other adapters, tools,
 * benchmarks and tests build on (codecs, stream and subject layouts). Applications use
 * '@concord/nats'; see ARCHITECTURE.md, "Entry points and adapters".
 */
export { decodeEnvelope, encodeEnvelope, ENVELOPE_FORMAT, ENVELOPE_FORMAT_HEADER, MESSAGE_TYPE_HEADER } from './envelope-codec.js';
export { NatsNames, encodeToken, isValidStreamPrefix } from './nats-names.js';
export { resolveSettings } from './nats-options.js';

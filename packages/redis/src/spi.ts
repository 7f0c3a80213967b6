/**
 * The adapter SPI of @concord/redis: the Redis parts that other adapters, tools, benchmarks
 * and tests build on (drivers, dialects, codecs, key and name layouts). Applications use
 * '@concord/redis'; see ARCHITECTURE.md, "Adapters".
 */
export { PARTITION_CONSUMER } from './redis-partition-consumer.js';
export { RedisBrokerKeys } from './redis-keys.js';
export type { RedisArg, RedisBrokerClient, RedisPipelineLike, RedisSubscriberClient } from './redis-client.js';
export { envelopeFields, envelopeFromFields } from './envelope-codec.js';
export { detectDurability } from './redis-connect.js';

export { RedisBroker, defaultRedisBrokerSettings, type RedisBrokerSettings } from './redis-broker.js';
export {
  openRedisBroker,
  detectDurability,
  type RedisBrokerOptions,
  type RedisConnectionOptions,
} from './redis-broker-factory.js';
export { deleteKeysWithPrefix } from './delete-keys.js';
export { PARTITION_CONSUMER } from './redis-partition-consumer.js';
export { RedisBrokerKeys } from './redis-keys.js';
export type {
  RedisArg,
  RedisBrokerClient,
  RedisClient,
  RedisPipelineLike,
  RedisSubscriberClient,
} from './redis-client.js';
export {
  RedisCommandError,
  RedisError,
  RedisErrorCode,
  RedisUnexpectedReplyError,
  isRedisError,
} from './redis-errors.js';
export {
  RedisViewStore,
  openRedisViewStore,
  type RedisViewStoreOptions,
  type ViewUpdate,
  type ViewUpdateResult,
} from './redis-view-store.js';
export type { DeepPartial } from './view-paths.js';
export { envelopeFields, envelopeFromFields } from './envelope-fields.js';

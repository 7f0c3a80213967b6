export { RedisBroker, defaultRedisBrokerSettings, type RedisBrokerSettings } from './redis-broker.js';
export { openRedisBroker, type RedisBrokerOptions, type RedisConnectionOptions } from './redis-broker-factory.js';
export { deleteKeysWithPrefix } from './delete-keys.js';
export type { RedisClient } from './redis-client.js';
export { RedisCommandError, RedisError, RedisErrorReason, RedisUnexpectedReplyError, isRedisError } from './redis-errors.js';
export {
  RedisViewStore,
  openRedisViewStore,
  type RedisViewStoreOptions,
  type ViewUpdate,
  type ViewUpdateResult,
} from './redis-view-store.js';
export type { DeepPartial } from './view-paths.js';

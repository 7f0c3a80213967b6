export { RedisBroker, openRedisBroker } from './redis-broker.js';
export { defaultRedisBrokerSettings, type RedisBrokerOptions, type RedisBrokerSettings, type RedisConnectionOptions } from './redis-options.js';
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

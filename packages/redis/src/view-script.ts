import { RedisScript } from './redis-script.js';

/**
 * KEYS: data hash, versions hash, processed-events set.
 * ARGV: eventId, version, then `nSet` followed by path/value pairs, `nInc` followed by
 * path/amount pairs, `nUnset` followed by paths.
 * A processed event id makes the whole update a no-op. A set or unset wins only over an
 * older version of the same field; increments are commutative and guarded by the event id.
 * Returns {duplicate (0/1), applied, stale}.
 */
export const applyViewUpdateScript = new RedisScript(
  'view-apply',
  `if redis.call('SISMEMBER', KEYS[3], ARGV[1]) == 1 then return {1, 0, 0} end
local version = tonumber(ARGV[2])
local applied, stale = 0, 0
local function newer(path)
  local seen = redis.call('HGET', KEYS[2], path)
  return (not seen) or tonumber(seen) < version
end
local i = 3
local n = tonumber(ARGV[i]); i = i + 1
for _ = 1, n do
  local path, value = ARGV[i], ARGV[i + 1]; i = i + 2
  if newer(path) then
    redis.call('HSET', KEYS[1], path, value)
    redis.call('HSET', KEYS[2], path, ARGV[2])
    applied = applied + 1
  else
    stale = stale + 1
  end
end
n = tonumber(ARGV[i]); i = i + 1
for _ = 1, n do
  local path, amount = ARGV[i], ARGV[i + 1]; i = i + 2
  if string.find(amount, '[.eE]') then
    redis.call('HINCRBYFLOAT', KEYS[1], path, amount)
  else
    redis.call('HINCRBY', KEYS[1], path, amount)
  end
  applied = applied + 1
end
n = tonumber(ARGV[i]); i = i + 1
for _ = 1, n do
  local path = ARGV[i]; i = i + 1
  if newer(path) then
    redis.call('HDEL', KEYS[1], path)
    redis.call('HSET', KEYS[2], path, ARGV[2])
    applied = applied + 1
  else
    stale = stale + 1
  end
end
redis.call('SADD', KEYS[3], ARGV[1])
return {0, applied, stale}`,
);

import { createHash } from 'node:crypto';
import type { RedisArg, RedisClient, RedisPipelineLike } from './redis-client.js';
import { isReplyError } from './redis-client.js';

/**
 * A Lua script run by EVALSHA, falling back to EVAL when the server does not know it (first
 * use, or after a restart emptied the script cache).
 */
export class RedisScript {
  readonly sha: string;

  constructor(
    readonly name: string,
    readonly source: string,
  ) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  async run(redis: RedisClient, keys: readonly string[], args: readonly RedisArg[] = []): Promise<unknown> {
    try {
      return await redis.call('EVALSHA', this.sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!isReplyError(error, 'NOSCRIPT')) throw error;
      return redis.call('EVAL', this.source, keys.length, ...keys, ...args);
    }
  }

  /** Queues the script in a pipeline as EVAL (pipelines cannot retry a NOSCRIPT). */
  queue(pipeline: RedisPipelineLike, keys: readonly string[], args: readonly RedisArg[] = []): void {
    pipeline.call('EVAL', this.source, keys.length, ...keys, ...args);
  }
}

/** Server time in ms, so no two hosts' clocks ever need to agree. */
const NOW = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`;

/** KEYS[1] members zset. ARGV: member, ttlMs. Returns the number of live members. */
export const heartbeatScript = new RedisScript(
  'heartbeat',
  `${NOW}
redis.call('ZADD', KEYS[1], now, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[2]))
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]) * 10)
return redis.call('ZCARD', KEYS[1])`,
);

/**
 * KEYS: lease keys. ARGV: member, leaseMs. Renews each lease this member holds; a lease that
 * vanished (a restarted Redis without persistence) is taken again, since nobody else holds it.
 * Returns 1/0 per key: still ours or not.
 */
export const renewScript = new RedisScript(
  'renew',
  `local out = {}
for i, key in ipairs(KEYS) do
  local owner = redis.call('GET', key)
  if owner == ARGV[1] then
    redis.call('PEXPIRE', key, ARGV[2])
    out[i] = 1
  elseif not owner then
    redis.call('SET', key, ARGV[1], 'PX', ARGV[2])
    out[i] = 1
  else
    out[i] = 0
  end
end
return out`,
);

/** KEYS[1] lease. ARGV: member. Deletes the lease only if this member holds it. */
export const releaseScript = new RedisScript(
  'release',
  `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`,
);

/**
 * The fenced read. KEYS[1] lease, KEYS[2] stream. ARGV: member, leaseMs, group, consumer,
 * count, id ('>' for new entries, or an id to page through the pending list), claim ('1' on
 * a new owner's first read: entries pending under any other consumer name of the group are
 * moved to ours first (XAUTOCLAIM JUSTID), so nothing pending is stranded there).
 * A read for new entries ('>') returns the pending ones instead while there are any: the owner
 * acknowledges each batch before it reads again, so an entry pending then was moved there by a
 * read whose reply never reached it (a client re-sending the command after a reconnect, a
 * timeout), and would otherwise never be delivered.
 * Only the lease holder can move entries into the group's pending list, so a member that lost
 * its lease can never read ahead of the new owner. Returns -1 when the lease is someone
 * else's, else the entries as {id, {field, value, ...} or false when trimmed}.
 */
export const readScript = new RedisScript(
  'read',
  `local owner = redis.call('GET', KEYS[1])
if not owner then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
elseif owner ~= ARGV[1] then
  return -1
end
if ARGV[7] == '1' then
  local cursor = '0-0'
  repeat
    cursor = redis.call('XAUTOCLAIM', KEYS[2], ARGV[3], ARGV[4], 0, cursor, 'COUNT', 1000, 'JUSTID')[1]
  until cursor == '0-0'
end
local from = ARGV[6]
if from == '>' and #redis.call('XPENDING', KEYS[2], ARGV[3], '-', '+', 1, ARGV[4]) > 0 then
  from = '0'
end
local reply = redis.call('XREADGROUP', 'GROUP', ARGV[3], ARGV[4], 'COUNT', ARGV[5], 'STREAMS', KEYS[2], from)
if not reply then return {} end
return reply[1][2]`,
);

/**
 * KEYS[1] stream. ARGV: retentionMs (0: none), maxLen (0: none). Trims only entries that EVERY
 * group of the stream has acknowledged: `safe` is the oldest of each group's oldest pending id
 * and each group's last delivered id. Below `safe`, entries older than the retention go; and
 * when the stream is longer than maxLen, every entry below `safe` goes, whatever its age.
 * A stream without any group is left alone (nobody has said what it has read). Returns the
 * number of entries removed.
 */
export const trimScript = new RedisScript(
  'trim',
  `if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
${NOW}
local function parse(id)
  local ms, seq = string.match(id, '^(%d+)-(%d+)$')
  return tonumber(ms), tonumber(seq)
end
local function older(a, b)
  local am, as = parse(a)
  local bm, bs = parse(b)
  return am < bm or (am == bm and as < bs)
end
local groups = redis.call('XINFO', 'GROUPS', KEYS[1])
if #groups == 0 then return 0 end
local safe = nil
for _, g in ipairs(groups) do
  local info = {}
  for i = 1, #g, 2 do info[g[i]] = g[i + 1] end
  local acked = info['last-delivered-id']
  if tonumber(info['pending']) > 0 then
    acked = redis.call('XPENDING', KEYS[1], info['name'])[2]
  else
    -- Everything delivered was acknowledged: the last delivered entry itself may go.
    local ms, seq = parse(acked)
    acked = string.format('%.0f', ms) .. '-' .. string.format('%.0f', seq + 1)
  end
  if safe == nil or older(acked, safe) then safe = acked end
end
local threshold = safe
local maxLen = tonumber(ARGV[2])
if not (maxLen > 0 and redis.call('XLEN', KEYS[1]) > maxLen) then
  if tonumber(ARGV[1]) <= 0 then return 0 end
  local byAge = string.format('%.0f', now - tonumber(ARGV[1])) .. '-0'
  if older(byAge, threshold) then threshold = byAge end
end
return redis.call('XTRIM', KEYS[1], 'MINID', '~', threshold)`,
);

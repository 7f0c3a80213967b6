import { LuaScript } from './lua-script.js';

/*
 * The Stock service's whole write API. Every script takes KEYS = [generation, stock, ledger] of
 * one product and refuses to act while the generation marker is missing: a Redis that lost its
 * data must never decide anything until it was rebuilt from MySQL.
 * Each change is recorded in the ledger under the id of the message that caused it, in the same
 * atomic script, so a message delivered again returns the recorded outcome and changes nothing.
 */

/** ARGV: message id, quantity. Returns {outcome, generation, stock}: APPLIED, REJECTED, NOT_READY or MISSING. */
export const deductScript = new LuaScript(`
local gen = redis.call('GET', KEYS[1])
if not gen then return {'NOT_READY', '0', '0'} end
local prior = redis.call('HGET', KEYS[3], ARGV[1])
local stock = redis.call('GET', KEYS[2])
if prior then
  if string.sub(prior, 1, 1) == 'x' then return {'REJECTED', gen, stock or '0'} end
  return {'APPLIED', gen, stock or '0'}
end
if not stock then return {'MISSING', gen, '0'} end
local q = tonumber(ARGV[2])
if tonumber(stock) < q then
  redis.call('HSET', KEYS[3], ARGV[1], 'x' .. ARGV[2])
  return {'REJECTED', gen, stock}
end
redis.call('HSET', KEYS[3], ARGV[1], '-' .. ARGV[2])
return {'APPLIED', gen, tostring(redis.call('DECRBY', KEYS[2], q))}
`);

/** ARGV: message id, quantity. Returns {outcome, generation, stock}: APPLIED or NOT_READY. */
export const addScript = new LuaScript(`
local gen = redis.call('GET', KEYS[1])
if not gen then return {'NOT_READY', '0', '0'} end
if redis.call('HEXISTS', KEYS[3], ARGV[1]) == 1 then
  return {'APPLIED', gen, redis.call('GET', KEYS[2]) or '0'}
end
redis.call('HSET', KEYS[3], ARGV[1], ARGV[2])
return {'APPLIED', gen, tostring(redis.call('INCRBY', KEYS[2], tonumber(ARGV[2])))}
`);

/** The count and the ledger read at one instant: {generation or '', stock or '', {id, value, ...}}. */
export const snapshotScript = new LuaScript(`
return {redis.call('GET', KEYS[1]) or '', redis.call('GET', KEYS[2]) or '', redis.call('HGETALL', KEYS[3])}
`);

/**
 * ARGV: generation the repair was computed on, count correction, then (id, value) pairs of
 * ledger entries MySQL proves and Redis lacks. A correction is a difference, not a value, so
 * deductions made meanwhile (which move the count and the record alike) stay counted.
 * Returns {'OK', stock} or {'GENERATION_CHANGED', ''} when a rebuild came in between.
 */
export const repairScript = new LuaScript(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return {'GENERATION_CHANGED', ''} end
for i = 3, #ARGV, 2 do redis.call('HSETNX', KEYS[3], ARGV[i], ARGV[i + 1]) end
return {'OK', tostring(redis.call('INCRBY', KEYS[2], tonumber(ARGV[2])))}
`);

/**
 * Undoes one ledger entry a person decided to reverse. ARGV: generation, message id, the value
 * the person saw. Returns {'OK', stock}, {'GENERATION_CHANGED', ''} or {'ENTRY_CHANGED', ''}.
 */
export const reverseEntryScript = new LuaScript(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return {'GENERATION_CHANGED', ''} end
local value = redis.call('HGET', KEYS[3], ARGV[2])
if value ~= ARGV[3] then return {'ENTRY_CHANGED', ''} end
redis.call('HDEL', KEYS[3], ARGV[2])
local delta = 0
if string.sub(value, 1, 1) ~= 'x' then delta = tonumber(value) end
return {'OK', tostring(redis.call('INCRBY', KEYS[2], -delta))}
`);

/** Compare-and-delete of the rebuild lock. */
export const releaseLockScript = new LuaScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`);

"""The Redis store's Lua scripts: each one atomic step on the server."""

from __future__ import annotations

from typing import Final

# Redis server time in milliseconds; scripts use it so every process shares one clock.
NOW: Final = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
"""

# KEYS[1] window key; ARGV: window_ms, limit, mode (hit|peek|add|count), member.
# Returns {allowed, count, retry_after_ms}. Same boundary as MemoryStore: an action
# exactly `window` old has left the window.
WINDOW_LUA: Final = (
    NOW
    + """
local window = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local mode = ARGV[3]
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local n = redis.call('ZCARD', KEYS[1])
if mode == 'add' or (mode == 'hit' and n < limit) then
  redis.call('ZADD', KEYS[1], now, ARGV[4])
  redis.call('PEXPIRE', KEYS[1], window)
  return {1, n + 1, 0}
end
if mode == 'count' or n < limit then
  return {1, n, 0}
end
local row = redis.call('ZRANGE', KEYS[1], n - limit, n - limit, 'WITHSCORES')
return {0, n, tonumber(row[2]) + window - now}
"""
)

# KEYS[1] pool; ARGV: cap, ttl_ms, token. Members scored by their expiry time.
ACQUIRE_GLOBAL_LUA: Final = (
    NOW
    + """
local cap = tonumber(ARGV[1])
local ttl = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if not redis.call('ZSCORE', KEYS[1], ARGV[3]) and redis.call('ZCARD', KEYS[1]) >= cap then
  return 0
end
redis.call('ZADD', KEYS[1], now + ttl, ARGV[3])
if redis.call('PTTL', KEYS[1]) < ttl then
  redis.call('PEXPIRE', KEYS[1], ttl)
end
return 1
"""
)

COUNT_GLOBAL_LUA: Final = (
    NOW
    + """
return redis.call('ZCOUNT', KEYS[1], '(' .. now, '+inf')
"""
)

# KEYS: budget window keys, then slot keys. ARGV: number of budget keys, limit,
# window_ms, ttl_ms, token, book (1/0). Checks every budget and slot before changing
# anything: {0, 0} taken (and booked), {1, retry_ms} a budget is full, {2, 0} a slot
# is held by another token.
RESERVE_LUA: Final = (
    NOW
    + """
local nb = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local window = tonumber(ARGV[3])
local ttl = tonumber(ARGV[4])
local token = ARGV[5]
local worst = -1
for i = 1, nb do
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now - window)
  local n = redis.call('ZCARD', KEYS[i])
  if n >= limit then
    local row = redis.call('ZRANGE', KEYS[i], n - limit, n - limit, 'WITHSCORES')
    local wait = tonumber(row[2]) + window - now
    if wait > worst then worst = wait end
  end
end
if worst >= 0 then return {1, worst} end
for i = nb + 1, #KEYS do
  local holder = redis.call('GET', KEYS[i])
  if holder and holder ~= token then return {2, 0} end
end
for i = nb + 1, #KEYS do
  redis.call('SET', KEYS[i], token, 'PX', ttl)
end
if ARGV[6] == '1' then
  for i = 1, nb do
    redis.call('ZADD', KEYS[i], 'NX', now, token)
    redis.call('PEXPIRE', KEYS[i], window)
  end
end
return {0, 0}
"""
)

# KEYS: budget keys, then slot keys. ARGV: number of budget keys, token, cancel (1/0).
SETTLE_LUA: Final = """
local nb = tonumber(ARGV[1])
for i = nb + 1, #KEYS do
  if redis.call('GET', KEYS[i]) == ARGV[2] then redis.call('DEL', KEYS[i]) end
end
if ARGV[3] == '1' then
  for i = 1, nb do redis.call('ZREM', KEYS[i], ARGV[2]) end
end
return 1
"""

# KEYS[1] slot; ARGV[1] token. Delete only if we still hold it.
RELEASE_SLOT_LUA: Final = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""

# KEYS[1] journal order (zset: dedupe id -> at), KEYS[2] entries (hash: id -> JSON).
# ARGV: dedupe id, at, entry JSON, keep, ttl_ms. Replace, trim the oldest, expire both.
PUSH_ENTRY_LUA: Final = """
redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
local extra = redis.call('ZCARD', KEYS[1]) - tonumber(ARGV[4])
if extra > 0 then
  local old = redis.call('ZRANGE', KEYS[1], 0, extra - 1)
  redis.call('ZREMRANGEBYRANK', KEYS[1], 0, extra - 1)
  redis.call('HDEL', KEYS[2], unpack(old))
end
redis.call('PEXPIRE', KEYS[1], ARGV[5])
redis.call('PEXPIRE', KEYS[2], ARGV[5])
return 1
"""

# KEYS as PUSH_ENTRY_LUA; ARGV[1] limit. The newest entries' JSON, newest first (ties:
# the higher id first, as ZREVRANGE orders them).
ENTRIES_LUA: Final = """
local ids = redis.call('ZREVRANGE', KEYS[1], 0, tonumber(ARGV[1]) - 1)
if #ids == 0 then return {} end
return redis.call('HMGET', KEYS[2], unpack(ids))
"""

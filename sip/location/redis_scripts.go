package location

// The Redis layout, every key under the store's prefix P:
//
//	P b:<aor>      hash   contact -> "<cseq>\n<call-id>\n<json of the rest>"
//	P e:<aor>      zset   contact -> expiry (server ms)
//	P o:<aor>      string the account the AOR's bindings belong to
//	P a:<account>  zset   "<aor>\n<contact>" -> expiry (server ms)
//
// Scores are absolute expiry times on the Redis server's clock; every
// script reads "now" from TIME, and each key carries a PEXPIREAT at its
// latest member's expiry, so Redis drops abandoned AORs by itself.

// luaPrelude is shared by the scripts: the server's time in ms.
const luaPrelude = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local function num(x) return string.format('%.0f', x) end
local function live(bkey, ekey)
  local out = {}
  local rows = redis.call('ZRANGEBYSCORE', ekey, '(' .. num(now), '+inf', 'WITHSCORES')
  for i = 1, #rows, 2 do
    out[#out + 1] = rows[i]
    out[#out + 1] = redis.call('HGET', bkey, rows[i]) or ''
    out[#out + 1] = tonumber(rows[i + 1])
  end
  return out
end
`

// applySource applies one Update.
// KEYS: b:<aor>, e:<aor>, o:<aor>, a:<account>.
// ARGV: prefix, aor, account, call-id, cseq, limit, remove-all (0/1), n,
// then n triples (contact, ttl ms, json), then the contacts to remove.
// Returns {0, owner, live...}, {1} for the limit, {2} for out of order.
const applySource = luaPrelude + `
local aor, acct, callid = ARGV[2], ARGV[3], ARGV[4]
local cseq, limit, nset = tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[8])
local bkey, ekey, okey, akey = KEYS[1], KEYS[2], KEYS[3], KEYS[4]

local dead = redis.call('ZRANGEBYSCORE', ekey, '-inf', num(now))
for _, c in ipairs(dead) do redis.call('HDEL', bkey, c) end
redis.call('ZREMRANGEBYSCORE', ekey, '-inf', num(now))
redis.call('ZREMRANGEBYSCORE', akey, '-inf', num(now))

local owner = redis.call('GET', okey)
if owner and owner ~= acct then
  for _, c in ipairs(redis.call('ZRANGE', ekey, 0, -1)) do
    redis.call('ZREM', ARGV[1] .. 'a:' .. owner, aor .. '\n' .. c)
  end
  redis.call('DEL', bkey, ekey, okey)
end

local function conflicts(c)
  local v = redis.call('HGET', bkey, c)
  if not v then return false end
  local cs, cid = string.match(v, '^(%d+)\n([^\n]*)\n')
  return cid == callid and cseq <= tonumber(cs)
end

local function unlink(c)
  redis.call('HDEL', bkey, c)
  redis.call('ZREM', ekey, c)
  redis.call('ZREM', akey, aor .. '\n' .. c)
end

if ARGV[7] == '1' then
  for _, c in ipairs(redis.call('ZRANGE', ekey, 0, -1)) do
    if conflicts(c) then return {2} end
  end
  for _, c in ipairs(redis.call('ZRANGE', ekey, 0, -1)) do unlink(c) end
else
  local touched, order = {}, {}
  for i = 0, nset - 1 do
    local c, ttl = ARGV[9 + 3 * i], tonumber(ARGV[10 + 3 * i])
    if touched[c] == nil then order[#order + 1] = c end
    if ttl > 0 then touched[c] = i else touched[c] = -1 end
  end
  for j = 9 + 3 * nset, #ARGV do
    local c = ARGV[j]
    if touched[c] == nil then order[#order + 1] = c; touched[c] = -1 end
  end
  local added, removed = 0, 0
  for _, c in ipairs(order) do
    local exists = redis.call('ZSCORE', ekey, c)
    if exists and conflicts(c) then return {2} end
    if not exists and touched[c] >= 0 then added = added + 1 end
    if exists and touched[c] < 0 then removed = removed + 1 end
  end
  local before = redis.call('ZCARD', akey)
  local after = before + added - removed
  if limit > 0 and after > limit and after > before then return {1} end
  for _, c in ipairs(order) do
    local i = touched[c]
    if i < 0 then
      unlink(c)
    else
      local exp = num(now + tonumber(ARGV[10 + 3 * i]))
      redis.call('HSET', bkey, c, ARGV[5] .. '\n' .. callid .. '\n' .. ARGV[11 + 3 * i])
      redis.call('ZADD', ekey, exp, c)
      redis.call('ZADD', akey, exp, aor .. '\n' .. c)
    end
  end
end

local last = redis.call('ZRANGE', ekey, -1, -1, 'WITHSCORES')
if #last == 0 then
  redis.call('DEL', bkey, ekey, okey)
else
  redis.call('SET', okey, acct)
  for _, k in ipairs({bkey, ekey, okey}) do redis.call('PEXPIREAT', k, last[2]) end
end
last = redis.call('ZRANGE', akey, -1, -1, 'WITHSCORES')
if #last > 0 then redis.call('PEXPIREAT', akey, last[2]) end

local out = {0, acct}
for _, v in ipairs(live(bkey, ekey)) do out[#out + 1] = v end
return out
`

// lookupSource returns {owner, live...} for KEYS b:<aor>, e:<aor>, o:<aor>.
const lookupSource = luaPrelude + `
local out = {redis.call('GET', KEYS[3]) or ''}
for _, v in ipairs(live(KEYS[1], KEYS[2])) do out[#out + 1] = v end
return out
`

// countSource counts the unexpired members of KEYS a:<account>.
const countSource = luaPrelude + `
return redis.call('ZCOUNT', KEYS[1], '(' .. num(now), '+inf')
`

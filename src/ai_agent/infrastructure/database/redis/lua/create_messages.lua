-- create_messages: ARGV[2] '1' = validate only, [3] pointer suffix ('|' .. µs), then five
-- per message, in list order: sid, mid, created (µs), parent ('' for none), JSON body.
-- Validates the whole batch before writing anything, so a failure stores nothing.
-- Each session hash is read once (HMGET) and written once (HSET): the counters and
-- last_activity are kept in Lua meanwhile (the script runs atomically).
local CHECK_ONLY, SUFFIX, FIRST = ARGV[2] == '1', ARGV[3], 4
local count = (#ARGV - FIRST + 1) / 5

local function field(i, n) return ARGV[FIRST + 5 * i + n] end

local seen, states, order = {}, {}, {}
local claimed, fresh = {}, {}  -- pointer keys this call created; message ids they point

-- Single server: claim the message's pointer (SET NX GET: the duplicate check and the
-- write in one call); a pointer already there is checked
-- (another session that holds the message: a duplicate) and rewritten below. On a
-- cluster the caller claims pointers before calling. Returns true for a duplicate.
local function claim(mid, sid)
  local pkey = key(T_POINTER, mid)
  local owner
  if TTL > 0 then
    owner = redis.call('SET', pkey, sid .. SUFFIX, 'NX', 'GET', 'EX', 2 * TTL)
  else
    owner = redis.call('SET', pkey, sid .. SUFFIX, 'NX', 'GET')
  end
  if not owner then
    claimed[#claimed + 1] = pkey
    fresh[mid] = true
    return false
  end
  owner = owner:sub(1, ID_LEN)
  return owner ~= sid and redis.call('HEXISTS', key(T_MESSAGES, owner), mid) == 1
end

-- A refused batch stores nothing: the pointers claimed so far go again.
local function refuse(reply)
  for i = 1, #claimed, 1000 do  -- unpack is limited to a few thousand values
    redis.call('DEL', unpack(claimed, i, math.min(i + 999, #claimed)))
  end
  return reply
end

for i = 0, count - 1 do
  local sid, mid, parent = field(i, 0), field(i, 1), field(i, 3)
  if not states[sid] then
    local row = redis.call('HMGET', key(T_SESSION, sid), 'activity', 'user', 'ptr', 'seq', 'count')
    if not row[1] then return refuse({ 'not_found', 'session', sid }) end
    states[sid] = {
      activity = row[1], user = row[2], ptr = row[3],
      seq = tonumber(row[4] or 0), count = tonumber(row[5] or 0),
    }
    order[#order + 1] = sid
  end
  local messages = key(T_MESSAGES, sid)
  if redis.call('HEXISTS', messages, mid) == 1 then
    return refuse({ 'duplicate', 'message', mid })
  end
  if SINGLE and claim(mid, sid) then return refuse({ 'duplicate', 'message', mid }) end
  if parent ~= '' and seen[parent] ~= sid and redis.call('HEXISTS', messages, parent) == 0 then
    return refuse({ 'not_found', 'parent', parent, sid })
  end
  seen[mid] = sid
end
if CHECK_ONLY then return refuse({ 'ok' }) end

for i = 0, count - 1 do
  local sid, mid, created, parent = field(i, 0), field(i, 1), field(i, 2), field(i, 3)
  local state = states[sid]
  state.seq = state.seq + 1
  state.count = state.count + 1
  redis.call('HSET', key(T_MESSAGES, sid), mid, created .. NUL .. parent .. NUL .. field(i, 4))
  redis.call('ZADD', key(T_ORDER, sid), state.seq, mid)
  add_reply(sid, parent, mid)
  if int_cmp(created, state.activity) > 0 then state.activity = created end
  if SINGLE and not fresh[mid] then set_pointer(mid, sid .. SUFFIX) end
end

local reply = { 'ok' }
for _, sid in ipairs(order) do
  local state = states[sid]
  local skey = key(T_SESSION, sid)
  local due = pointers_due_at(skey, state.ptr)
  -- %d: a Lua number would be written as %.14g, which turns big counters into exponents
  local fields = { 'seq', string.format('%d', state.seq), 'count', string.format('%d', state.count),
    'activity', state.activity }
  if due == 1 and TTL > 0 then
    fields[#fields + 1] = 'ptr'
    fields[#fields + 1] = NOW
  end
  redis.call('HSET', skey, unpack(fields))
  touch_session(sid)
  if SINGLE then index_session(sid, state.activity, state.user, 'gt', due == 1) end
  local values = { sid, state.activity, state.user and 1 or 0, state.user or '', due }
  for _, value in ipairs(values) do reply[#reply + 1] = value end
end
return reply

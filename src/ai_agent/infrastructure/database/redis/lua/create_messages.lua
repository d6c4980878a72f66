-- create_messages: ARGV[2] '1' = validate only, [3] pointer suffix ('|' .. µs), then five
-- per message, in list order: sid, mid, created (µs), parent ('' for none), JSON body.
-- Validates the whole batch before writing anything, so a failure stores nothing.
local CHECK_ONLY, SUFFIX, FIRST = ARGV[2] == '1', ARGV[3], 4
local count = (#ARGV - FIRST + 1) / 5

local function field(i, n) return ARGV[FIRST + 5 * i + n] end

local seen, checked = {}, {}
for i = 0, count - 1 do
  local sid, mid, parent = field(i, 0), field(i, 1), field(i, 3)
  if not checked[sid] then
    if redis.call('EXISTS', key(T_SESSION, sid)) == 0 then
      return { 'not_found', 'session', sid }
    end
    checked[sid] = true
  end
  local messages = key(T_MESSAGES, sid)
  if redis.call('HEXISTS', messages, mid) == 1 then return { 'duplicate', 'message', mid } end
  if SINGLE then  -- on a cluster the caller claims the pointer before calling
    local owner = redis.call('GET', key(T_POINTER, mid))
    owner = owner and owner:sub(1, ID_LEN)
    if owner and owner ~= sid and redis.call('HEXISTS', key(T_MESSAGES, owner), mid) == 1 then
      return { 'duplicate', 'message', mid }
    end
  end
  if parent ~= '' and seen[parent] ~= sid and redis.call('HEXISTS', messages, parent) == 0 then
    return { 'not_found', 'parent', parent, sid }
  end
  seen[mid] = sid
end
if CHECK_ONLY then return { 'ok' } end

local sessions = {}
for i = 0, count - 1 do
  local sid, mid, created, parent = field(i, 0), field(i, 1), field(i, 2), field(i, 3)
  local skey = key(T_SESSION, sid)
  redis.call('HSET', key(T_MESSAGES, sid), mid, created .. NUL .. parent .. NUL .. field(i, 4))
  redis.call('ZADD', key(T_ORDER, sid), redis.call('HINCRBY', skey, 'seq', 1), mid)
  add_reply(sid, parent, mid)
  redis.call('HINCRBY', skey, 'count', 1)
  if int_cmp(created, redis.call('HGET', skey, 'activity')) > 0 then
    redis.call('HSET', skey, 'activity', created)
  end
  if SINGLE then set_pointer(mid, sid .. SUFFIX) end
  if not sessions[sid] then
    sessions[sid] = true
    sessions[#sessions + 1] = sid
  end
end

local reply = { 'ok' }
for _, sid in ipairs(sessions) do
  touch_session(sid)
  local state = session_state(sid)
  if SINGLE then index_session(sid, state[2], state[3] == 1 and state[4] or nil, 'gt') end
  for _, value in ipairs(state) do reply[#reply + 1] = value end
end
return reply

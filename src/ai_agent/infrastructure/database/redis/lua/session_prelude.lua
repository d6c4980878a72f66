-- Shared head of every session script (_queries.py prepends it, after the constants of one
-- repository, rendered into the source at load time so no call sends them, and
-- id_lists.lua):
-- SINGLE  true on a single server: the script then also maintains the cross-slot keys
--         (session indexes, message pointers), which it derives from the templates below;
--         on a cluster it touches only the session's own slot and returns what the caller
--         needs to finish the cross-slot part.
-- TTL     session TTL in seconds (0 = never expire);
-- T_SESSION, T_MESSAGES, T_ORDER, T_REPLIES, T_POINTER, T_USER: key templates, K_SESSIONS
--         the global index (_keys.py: KeySpace.templates).
-- ARGV[1] now in seconds; operation arguments from ARGV[2].
local NOW = tonumber(ARGV[1])

local function key(template, id)
  return string.format(template, id)
end

local function touch(k)
  if TTL > 0 then redis.call('EXPIRE', k, TTL) else redis.call('PERSIST', k) end
end

local function touch_session(sid)
  touch(key(T_SESSION, sid)); touch(key(T_MESSAGES, sid))
  touch(key(T_ORDER, sid)); touch(key(T_REPLIES, sid))
end

-- Compare two canonical decimal integer strings exactly (a Lua number is a double).
local function int_cmp(a, b)
  if a == b then return 0 end
  local neg_a, neg_b = a:sub(1, 1) == '-', b:sub(1, 1) == '-'
  if neg_a ~= neg_b then return neg_a and -1 or 1 end
  local r
  if #a ~= #b then r = (#a < #b) and -1 or 1 else r = (a < b) and -1 or 1 end
  return neg_a and -r or r
end

-- A message frame is created .. NUL .. parent .. NUL .. json: Lua never parses the JSON.
local function parse_frame(frame)
  local a = frame:find(NUL, 1, true)
  local b = frame:find(NUL, a + 1, true)
  return frame:sub(1, a - 1), frame:sub(a + 1, b - 1), frame:sub(b + 1)
end

local function with_parent(frame, parent)
  local created, _, body = parse_frame(frame)
  return created .. NUL .. parent .. NUL .. body
end

local function add_reply(sid, parent, mid) append_id(key(T_REPLIES, sid), parent, mid) end

local function remove_reply(sid, parent, mid) remove_id(key(T_REPLIES, sid), parent, mid) end

-- Remove message `mid` (stored as `frame`) from session `sid`: its entries, its link to
-- its parent, the parent of each of its replies (they keep existing), one off the count.
-- What follows every removal (TTLs, pointer, index) is `removed` below.
local function remove_message(sid, mid, frame)
  local messages = key(T_MESSAGES, sid)
  local _, parent = parse_frame(frame)
  local replies_key = key(T_REPLIES, sid)
  local replies = redis.call('HGET', replies_key, mid)
  if replies then
    for reply_id in each_id(replies) do
      local reply = redis.call('HGET', messages, reply_id)
      if reply then redis.call('HSET', messages, reply_id, with_parent(reply, '')) end
    end
    redis.call('HDEL', replies_key, mid)
  end
  remove_reply(sid, parent, mid)
  redis.call('HDEL', messages, mid)
  redis.call('ZREM', key(T_ORDER, sid), mid)
  redis.call('HINCRBY', key(T_SESSION, sid), 'count', -1)
end

-- Message pointers live 2 x TTL and are re-armed (by the caller, in batches) whenever a
-- write finds the last re-arm TTL/2 or more ago: cheap per write, and never shorter-lived
-- than the session. Returns 1 when the caller must re-arm this session's pointers now.
-- `last` is the session's 'ptr' field; with a TTL, the script records NOW there when due
-- (create_messages folds that into its own HSET of the session hash).
local function pointers_due_at(skey, last)
  if TTL > 0 then
    if last and NOW - tonumber(last) < TTL / 2 then return 0 end
    return 1
  end
  if last then redis.call('HDEL', skey, 'ptr'); return 1 end
  return 0
end

local function pointers_due(skey)
  local due = pointers_due_at(skey, redis.call('HGET', skey, 'ptr'))
  if due == 1 and TTL > 0 then redis.call('HSET', skey, 'ptr', NOW) end
  return due
end

local function set_pointer(mid, value)
  if TTL > 0 then
    redis.call('SET', key(T_POINTER, mid), value, 'EX', 2 * TTL)
  else
    redis.call('SET', key(T_POINTER, mid), value)
  end
end

-- Drop the pointers of messages `mids` that still name session `sid` (one another session
-- took over stays), a thousand at a time: one MGET and one UNLINK per batch, not two
-- commands per message (unpack is limited to a few thousand values).
local function drop_pointers(sid, mids)
  for i = 1, #mids, 1000 do
    local keys = {}
    for j = i, math.min(i + 999, #mids) do keys[#keys + 1] = key(T_POINTER, mids[j]) end
    local owners, mine = redis.call('MGET', unpack(keys)), {}
    for j = 1, #keys do  -- a missing pointer is false, so no hole stops the loop
      local owner = owners[j]
      if owner and owner:sub(1, ID_LEN) == sid then mine[#mine + 1] = keys[j] end
    end
    if #mine > 0 then redis.call('UNLINK', unpack(mine)) end
  end
end

-- Single server only: index entries with score = last_activity in epoch microseconds.
-- mode 'set' replaces the score, 'gt' only raises it, 'touch' writes no score.
-- An index lives 2 x TTL and is re-armed (`rearm`) with the message pointers, i.e. by a
-- session's write that finds its pointers due (every TTL/2 of writes), and by every
-- session create and update (which may name a new user): a session's last write is then
-- less than TTL/2 after its last re-arm, so each of its indexes outlives it by TTL/2 or
-- more, while appends skip two EXPIREs. Every index TTL anywhere is 2 x TTL, so no re-arm
-- shortens another's.
local function index_session(sid, score, user, mode, rearm)
  local targets = { K_SESSIONS }
  if user then targets[2] = key(T_USER, user) end
  for _, k in ipairs(targets) do
    if mode == 'set' then
      redis.call('ZADD', k, score, sid)
    elseif mode == 'gt' then
      redis.call('ZADD', k, 'GT', score, sid)
    end
    if rearm then
      if TTL > 0 then redis.call('EXPIRE', k, 2 * TTL) else redis.call('PERSIST', k) end
    end
  end
end

-- The common tail of every successful session write: what a cluster caller needs to
-- finish the cross-slot part, and whether pointers need re-arming.
local function session_state(sid)
  local skey = key(T_SESSION, sid)
  local state = redis.call('HMGET', skey, 'activity', 'user')
  local user = state[2]
  return { sid, state[1], user and 1 or 0, user or '', pointers_due(skey) }
end

-- The tail of removing messages `mids` (delete_message, pop_message, trim_messages), once
-- per script: refresh the TTLs and, on a single server, drop the pointers and touch the
-- indexes. Returns the session state.
local function removed_all(sid, mids)
  touch_session(sid)
  local state = session_state(sid)
  if SINGLE then
    drop_pointers(sid, mids)
    index_session(sid, state[2], state[3] == 1 and state[4] or nil, 'touch', state[5] == 1)
  end
  return state
end

local function removed(sid, mid)
  return removed_all(sid, { mid })
end

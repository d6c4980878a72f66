-- delete_message: ARGV[2] sid, [3] mid. Decrements the session's count and clears the
-- parent of every reply to the message.
local sid, mid = ARGV[2], ARGV[3]
local messages, skey = key(T_MESSAGES, sid), key(T_SESSION, sid)
local old = redis.call('EXISTS', skey) == 1 and redis.call('HGET', messages, mid)
if not old then return { 'missing' } end
local _, parent = parse_frame(old)
local replies_key = key(T_REPLIES, sid)
local replies = redis.call('HGET', replies_key, mid)
if replies then
  for i = 1, #replies, ID_LEN do
    local reply_id = replies:sub(i, i + ID_LEN - 1)
    local frame = redis.call('HGET', messages, reply_id)
    if frame then redis.call('HSET', messages, reply_id, with_parent(frame, '')) end
  end
  redis.call('HDEL', replies_key, mid)
end
remove_reply(sid, parent, mid)
redis.call('HDEL', messages, mid)
redis.call('ZREM', key(T_ORDER, sid), mid)
redis.call('HINCRBY', skey, 'count', -1)
touch_session(sid)
local state = session_state(sid)
if SINGLE then
  drop_pointer(sid, mid)
  index_session(sid, state[2], state[3] == 1 and state[4] or nil, 'touch', state[5] == 1)
end
return { 'ok', unpack(state) }

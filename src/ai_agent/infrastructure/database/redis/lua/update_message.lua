-- update_message: ARGV[2] sid, [3] mid, [4] parent ('' for none), [5] JSON body.
-- Keeps the stored created_at (replied first); a new parent must be in the same session.
local sid, mid, parent, body = ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local messages = key(T_MESSAGES, sid)
local old = redis.call('EXISTS', key(T_SESSION, sid)) == 1 and redis.call('HGET', messages, mid)
if not old then return { 'not_found', 'message', mid } end
local created, old_parent = parse_frame(old)
if parent ~= old_parent then
  if parent ~= '' and redis.call('HEXISTS', messages, parent) == 0 then
    return { 'not_found', 'parent', parent, sid }
  end
  remove_reply(sid, old_parent, mid)
  add_reply(sid, parent, mid)
end
redis.call('HSET', messages, mid, created .. NUL .. parent .. NUL .. body)
touch_session(sid)
local state = session_state(sid)
if SINGLE then
  set_pointer(mid, sid .. '|0')  -- repairs a lost pointer, re-arms its TTL
  index_session(sid, state[2], state[3] == 1 and state[4] or nil, 'touch', state[5] == 1)
end
return { 'ok', created, unpack(state) }

-- clear_messages: ARGV[2] sid. Deletes every message of the session with their order and
-- reply links and sets its count to 0; the session hash keeps every other field ('seq'
-- goes on, so a position is never given twice). Replies 'ok', how many there were, the
-- session state, then (cluster only: the caller drops their pointers) the message ids.
local sid = ARGV[2]
local skey = key(T_SESSION, sid)
if redis.call('EXISTS', skey) == 0 then return { 'missing' } end
local mids = redis.call('ZRANGE', key(T_ORDER, sid), 0, -1)
-- UNLINK: a long thread's hashes are freed off the server's main thread
redis.call('UNLINK', key(T_MESSAGES, sid), key(T_ORDER, sid), key(T_REPLIES, sid))
redis.call('HSET', skey, 'count', 0)
touch(skey)
local state = session_state(sid)
local reply = { 'ok', #mids }
for _, value in ipairs(state) do reply[#reply + 1] = value end
if SINGLE then
  drop_pointers(sid, mids)
  index_session(sid, state[2], state[3] == 1 and state[4] or nil, 'touch', state[5] == 1)
else
  for _, mid in ipairs(mids) do reply[#reply + 1] = mid end
end
return reply

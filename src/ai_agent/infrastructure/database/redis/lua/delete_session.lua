-- delete_session: ARGV[2] sid. Removes the session, every message and, on a single server,
-- its index entries and message pointers. Replies 'ok', has user, user, then message ids.
local sid = ARGV[2]
local skey = key(T_SESSION, sid)
if redis.call('EXISTS', skey) == 0 then
  if SINGLE then redis.call('ZREM', K_SESSIONS, sid) end  -- an expired session's entry
  return { 'missing' }
end
local user = redis.call('HGET', skey, 'user')
local mids = redis.call('ZRANGE', key(T_ORDER, sid), 0, -1)
redis.call('DEL', skey, key(T_MESSAGES, sid), key(T_ORDER, sid), key(T_REPLIES, sid))
if SINGLE then
  redis.call('ZREM', K_SESSIONS, sid)
  if user then redis.call('ZREM', key(T_USER, user), sid) end
  for _, mid in ipairs(mids) do drop_pointer(sid, mid) end
end
local reply = { 'ok', user and 1 or 0, user or '' }
for _, mid in ipairs(mids) do reply[#reply + 1] = mid end
return reply

-- update_session: ARGV[2] sid, [3] doc, [4] activity, [5] has user, [6] user.
-- Keeps created, count and seq; the caller's last_activity wins (it may move backwards).
-- Replies 'ok', the session state, old has user, old user, stored created, stored count.
local sid, doc, activity = ARGV[2], ARGV[3], ARGV[4]
local user = ARGV[5] == '1' and ARGV[6] or nil
local skey = key(T_SESSION, sid)
if redis.call('EXISTS', skey) == 0 then return { 'not_found', 'session', sid } end
local old_user = redis.call('HGET', skey, 'user')
redis.call('HSET', skey, 'doc', doc, 'activity', activity)
if user then redis.call('HSET', skey, 'user', user) else redis.call('HDEL', skey, 'user') end
touch_session(sid)
if SINGLE then
  if old_user and old_user ~= user then redis.call('ZREM', key(T_USER, old_user), sid) end
  index_session(sid, activity, user, 'set', true)
end
local reply = { 'ok', unpack(session_state(sid)) }
reply[#reply + 1] = old_user and 1 or 0
reply[#reply + 1] = old_user or ''
local kept = redis.call('HMGET', skey, 'created', 'count')
reply[#reply + 1] = kept[1]
reply[#reply + 1] = kept[2]
return reply

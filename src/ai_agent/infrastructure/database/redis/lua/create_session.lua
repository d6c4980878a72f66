-- create_session: ARGV[2] sid, [3] doc, [4] created, [5] activity, [6] has user, [7] user
local sid, doc, created, activity = ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local user = ARGV[6] == '1' and ARGV[7] or nil
local skey = key(T_SESSION, sid)
if redis.call('EXISTS', skey) == 1 then return { 'duplicate', 'session', sid } end
redis.call('HSET', skey, 'doc', doc, 'created', created, 'activity', activity,
  'count', 0, 'seq', 0)
if user then redis.call('HSET', skey, 'user', user) end
if TTL > 0 then redis.call('HSET', skey, 'ptr', NOW) end
touch(skey)
if SINGLE then index_session(sid, activity, user, 'set', true) end
return { 'ok', unpack(session_state(sid)) }

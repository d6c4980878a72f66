-- create_session: ARGV[11] sid, [12] doc, [13] created, [14] activity, [15] has user, [16] user
local sid, doc, created, activity = ARGV[11], ARGV[12], ARGV[13], ARGV[14]
local user = ARGV[15] == '1' and ARGV[16] or nil
local skey = key(T_SESSION, sid)
if redis.call('EXISTS', skey) == 1 then return { 'duplicate', 'session', sid } end
redis.call('HSET', skey, 'doc', doc, 'created', created, 'activity', activity,
  'count', 0, 'seq', 0)
if user then redis.call('HSET', skey, 'user', user) end
if TTL > 0 then redis.call('HSET', skey, 'ptr', NOW) end
touch(skey)
if SINGLE then index_session(sid, activity, user, 'set') end
return { 'ok', unpack(session_state(sid)) }

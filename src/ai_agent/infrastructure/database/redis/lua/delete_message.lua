-- delete_message: ARGV[2] sid, [3] mid. Decrements the session's count and clears the
-- parent of every reply to the message.
local sid, mid = ARGV[2], ARGV[3]
local skey = key(T_SESSION, sid)
local old = redis.call('EXISTS', skey) == 1 and redis.call('HGET', key(T_MESSAGES, sid), mid)
if not old then return { 'missing' } end
remove_message(sid, mid, old)
return { 'ok', unpack(removed(sid, mid)) }

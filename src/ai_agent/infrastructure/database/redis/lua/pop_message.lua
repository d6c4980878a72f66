-- pop_message: ARGV[2] sid. Removes the session's newest message (highest sequence) as
-- delete_message does and replies 'ok', its frame, then the session state. Picking and
-- removing in one script is what keeps two concurrent pops from taking the same message.
-- Replies 'missing' for an unknown or empty session (and then writes nothing).
local sid = ARGV[2]
if redis.call('EXISTS', key(T_SESSION, sid)) == 0 then return { 'missing' } end
local mid = redis.call('ZRANGE', key(T_ORDER, sid), -1, -1)[1]
if not mid then return { 'missing' } end
local frame = redis.call('HGET', key(T_MESSAGES, sid), mid)
remove_message(sid, mid, frame)
return { 'ok', frame, unpack(removed(sid, mid)) }

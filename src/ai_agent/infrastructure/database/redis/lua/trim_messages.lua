-- trim_messages: ARGV[2] sid, [3] keep, [4] limit. Removes up to `limit` of the session's
-- oldest messages beyond its newest `keep`, each as delete_message does (count, reply
-- links), then refreshes the TTLs once. Replies 'ok', how many, then (when any) the
-- session state and (cluster only: the caller drops their pointers) the removed ids;
-- 'missing' for an unknown session.
local sid, keep, limit = ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
if redis.call('EXISTS', key(T_SESSION, sid)) == 0 then return { 'missing' } end
local order, messages = key(T_ORDER, sid), key(T_MESSAGES, sid)
local n = math.min(limit, redis.call('ZCARD', order) - keep)
if n <= 0 then return { 'ok', 0 } end
local mids = redis.call('ZRANGE', order, 0, n - 1)
for _, mid in ipairs(mids) do remove_message(sid, mid, redis.call('HGET', messages, mid)) end
local reply = { 'ok', #mids, unpack(removed_all(sid, mids)) }
if not SINGLE then
  for _, mid in ipairs(mids) do reply[#reply + 1] = mid end
end
return reply

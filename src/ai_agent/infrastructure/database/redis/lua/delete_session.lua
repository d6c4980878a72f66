-- delete_session: ARGV[2] sid; ARGV[3] (prune only) a cutoff in epoch µs. Removes the
-- session, every message and, on a single server, its index entries and message pointers.
-- With a cutoff the session goes only if its activity is still before it: one an append
-- moved forward since the prune read the index is kept, and its global index entry raised
-- to its activity (on a cluster by the caller), so the prune does not meet it again.
-- Replies 'ok', has user, user, how many messages, then (cluster only: the caller drops
-- their pointers) the message ids; or 'kept', activity; or 'missing'.
local sid, cutoff = ARGV[2], ARGV[3]
local skey = key(T_SESSION, sid)
if redis.call('EXISTS', skey) == 0 then
  if SINGLE then redis.call('ZREM', K_SESSIONS, sid) end  -- an expired session's entry
  return { 'missing' }
end
local state = redis.call('HMGET', skey, 'user', 'activity')
local user, activity = state[1], state[2]
if cutoff and int_cmp(activity, cutoff) >= 0 then
  if SINGLE then redis.call('ZADD', K_SESSIONS, 'XX', 'GT', activity, sid) end
  return { 'kept', activity }
end
local mids = redis.call('ZRANGE', key(T_ORDER, sid), 0, -1)
-- UNLINK: a long thread's hashes are freed off the server's main thread
redis.call('UNLINK', skey, key(T_MESSAGES, sid), key(T_ORDER, sid), key(T_REPLIES, sid))
local reply = { 'ok', user and 1 or 0, user or '', #mids }
if SINGLE then
  redis.call('ZREM', K_SESSIONS, sid)
  if user then redis.call('ZREM', key(T_USER, user), sid) end
  drop_pointers(sid, mids)
else
  for _, mid in ipairs(mids) do reply[#reply + 1] = mid end
end
return reply

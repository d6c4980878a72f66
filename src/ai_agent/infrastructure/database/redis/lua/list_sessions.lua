-- list_sessions, single server only (it reads session hashes of other slots): KEYS[1] an
-- index (every session, or one user's); ARGV[1] start, [2] stop (ranks, newest first).
-- T_SESSION comes from the constants _queries.py renders in front. Replies, per entry, the
-- fields of _codec.SESSION_FIELDS (doc, created, activity, count, user), in one round
-- trip. A live session's doc holds its id, so
-- neither id nor score is sent back for it; a gone session (its index entry outlived it)
-- replies false, then its id where `created` would be, so the caller can drop the entry.
local ids = redis.call('ZREVRANGE', KEYS[1], ARGV[1], ARGV[2])
local reply, n = {}, 0
for _, sid in ipairs(ids) do
  local row = redis.call('HMGET', string.format(T_SESSION, sid),
    'doc', 'created', 'activity', 'count', 'user')
  if not row[1] then row[2] = sid end
  for j = 1, 5 do reply[n + j] = row[j] end
  n = n + 5
end
return reply

-- list_sessions, single server only (it reads session hashes of other slots): KEYS[1] an
-- index (every session, or one user's); ARGV[1] start, [2] stop (ranks, newest first),
-- [3] the session key template ('%s' stands for the id), [4..] the hash fields to read.
-- Replies id, score, then the fields (false for a gone session), per entry: one round trip
-- where ZREVRANGE and a pipeline of HMGETs took two.
local entries = redis.call('ZREVRANGE', KEYS[1], ARGV[1], ARGV[2], 'WITHSCORES')
local fields = {}
for i = 4, #ARGV do fields[#fields + 1] = ARGV[i] end
local reply = {}
for i = 1, #entries, 2 do
  local row = redis.call('HMGET', string.format(ARGV[3], entries[i]), unpack(fields))
  reply[#reply + 1] = entries[i]
  reply[#reply + 1] = entries[i + 1]
  for j = 1, #fields do reply[#reply + 1] = row[j] end
end
return reply

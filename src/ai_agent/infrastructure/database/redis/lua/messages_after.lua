-- messages_after: KEYS[1] order, KEYS[2] messages; ARGV[1] position, [2] limit. Replies
-- nothing when no message lies past the position; else the position (sequence) of the
-- last one read, then the frames of up to `limit` messages past it, oldest first. A range
-- by score: a page costs the same however deep into the history it starts.
local entries = redis.call('ZRANGE', KEYS[1], '(' .. ARGV[1], '+inf', 'BYSCORE',
  'LIMIT', 0, ARGV[2], 'WITHSCORES')
if #entries == 0 then return {} end
local ids = {}
for i = 1, #entries, 2 do ids[#ids + 1] = entries[i] end
local frames = redis.call('HMGET', KEYS[2], unpack(ids))
local reply = { entries[#entries] }
for i = 1, #ids do
  if frames[i] then reply[#reply + 1] = frames[i] end
end
return reply

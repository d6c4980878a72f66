-- read_messages: KEYS[1] order, KEYS[2] messages; ARGV[1] start, [2] stop, [3] '1' = newest
-- first. Replies the frames, in order, in one round trip (a frame's JSON holds its id, so
-- the ids are not sent back).
local ids
if ARGV[3] == '1' then
  ids = redis.call('ZREVRANGE', KEYS[1], ARGV[1], ARGV[2])
else
  ids = redis.call('ZRANGE', KEYS[1], ARGV[1], ARGV[2])
end
if #ids == 0 then return {} end
local frames = redis.call('HMGET', KEYS[2], unpack(ids))
local reply = {}
for i = 1, #ids do
  if frames[i] then reply[#reply + 1] = frames[i] end
end
return reply

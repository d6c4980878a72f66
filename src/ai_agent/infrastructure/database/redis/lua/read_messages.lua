-- read_messages: KEYS[1] order, KEYS[2] messages; ARGV[1] start, [2] stop, [3] '1' = newest
-- first. Replies id, frame, id, frame, ... in one round trip.
local ids
if ARGV[3] == '1' then
  ids = redis.call('ZREVRANGE', KEYS[1], ARGV[1], ARGV[2])
else
  ids = redis.call('ZRANGE', KEYS[1], ARGV[1], ARGV[2])
end
if #ids == 0 then return {} end
local frames = redis.call('HMGET', KEYS[2], unpack(ids))
local reply = {}
for i, id in ipairs(ids) do
  if frames[i] then
    reply[#reply + 1] = id
    reply[#reply + 1] = frames[i]
  end
end
return reply

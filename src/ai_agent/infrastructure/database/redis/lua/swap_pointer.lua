-- swap_pointer: KEYS[1] pointer; ARGV[1] expected value, [2] new value ('' deletes),
-- [3] TTL in seconds (0 = none). Compare-and-set, so a stale caller never clobbers.
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if ARGV[2] == '' then return redis.call('DEL', KEYS[1]) end
if tonumber(ARGV[3]) > 0 then
  redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
else
  redis.call('SET', KEYS[1], ARGV[2])
end
return 1

-- catalog_list: KEYS[1] records, KEYS[2] index (by-name or enabled); ARGV[1] offset,
-- [2] limit. Pages the index first, so enabled_only filters before paging.
local members = redis.call('ZRANGE', KEYS[2], '-', '+', 'BYLEX', 'LIMIT', ARGV[1], ARGV[2])
if #members == 0 then return {} end
local ids = {}
for i, member in ipairs(members) do ids[i] = member:sub(-36) end
return redis.call('HMGET', KEYS[1], unpack(ids))

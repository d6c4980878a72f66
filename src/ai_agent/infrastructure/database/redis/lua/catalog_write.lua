-- catalog_write: ARGV[1] 'create' | 'update', [2] id, [3] created (µs; kept on update),
-- [4] link, [5] name, [6] JSON body, [7] '1' = enabled, [8] '1' = the name is unique.
local op, id, created, link, name, body = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local enabled, unique = ARGV[7] == '1', ARGV[8] == '1'
local old = redis.call('HGET', RECORDS, id)
if op == 'create' and old then return { 'duplicate', 'id', id } end
if op == 'update' and not old then return { 'not_found', 'self', id } end
local old_link, old_name = '', nil
if old then created, old_link, old_name = parse_frame(old) end
if unique and name ~= old_name then
  local taken = redis.call('ZRANGE', BY_NAME, '[' .. name .. NUL, '(' .. name .. '\1',
    'BYLEX', 'LIMIT', 0, 1)
  if #taken > 0 then return { 'duplicate', 'name', name } end
end
if link ~= '' and redis.call('HEXISTS', SERVERS, link) == 0 then
  return { 'not_found', 'mcp_server', link }
end
if old then
  redis.call('ZREM', BY_NAME, old_name .. NUL .. id)
  redis.call('ZREM', ENABLED, old_name .. NUL .. id)
  unlink_tool(old_link, id)
end
redis.call('HSET', RECORDS, id, frame_of(created, link, name, body))
redis.call('ZADD', BY_NAME, 0, name .. NUL .. id)
if enabled then redis.call('ZADD', ENABLED, 0, name .. NUL .. id) end
link_tool(link, id)
return { 'ok', created }

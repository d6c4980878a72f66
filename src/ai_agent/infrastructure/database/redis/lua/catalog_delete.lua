-- catalog_delete: ARGV[1] id. Deleting an MCP server keeps its tools and clears their link.
local id = ARGV[1]
local old = redis.call('HGET', RECORDS, id)
if not old then return { 'missing' } end
local _, link, name = parse_frame(old)
redis.call('ZREM', BY_NAME, name .. NUL .. id)
redis.call('ZREM', ENABLED, name .. NUL .. id)
unlink_tool(link, id)
redis.call('HDEL', RECORDS, id)
if RECORDS == SERVERS then
  local tools = redis.call('HGET', LINKS, id)
  if tools then
    for tool in each_id(tools) do
      local frame = redis.call('HGET', TOOLS, tool)
      if frame then
        local created, _, tool_name, body = parse_frame(frame)
        redis.call('HSET', TOOLS, tool, frame_of(created, '', tool_name, body))
      end
    end
    redis.call('HDEL', LINKS, id)
  end
end
return { 'ok' }

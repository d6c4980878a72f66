-- Shared head of the catalog scripts (agents, tools, MCP servers, external services).
-- Every catalog key lives in the one {prefix} slot, so these scripts are atomic on a
-- cluster too. KEYS: [1] records, [2] by-name index, [3] enabled index, [4] MCP server ->
-- tool ids, [5] tool records, [6] MCP server records.
-- A record frame is created .. NUL .. link .. NUL .. name .. NUL .. json, where link is a
-- tool's MCP server id ('' otherwise); index members are name .. NUL .. id, so a
-- lexicographic range sorts by name (UTF-8 byte order = code point order), then id.
local RECORDS, BY_NAME, ENABLED, LINKS, TOOLS, SERVERS =
  KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local NUL = '\0'
local ID_LEN = 36

local function parse_frame(frame)
  local a = frame:find(NUL, 1, true)
  local b = frame:find(NUL, a + 1, true)
  local c = frame:find(NUL, b + 1, true)
  return frame:sub(1, a - 1), frame:sub(a + 1, b - 1), frame:sub(b + 1, c - 1), frame:sub(c + 1)
end

local function frame_of(created, link, name, body)
  return created .. NUL .. link .. NUL .. name .. NUL .. body
end

local function link_tool(server, tool)
  if server == '' then return end
  redis.call('HSET', LINKS, server, (redis.call('HGET', LINKS, server) or '') .. tool)
end

local function unlink_tool(server, tool)
  if server == '' then return end
  local ids = redis.call('HGET', LINKS, server)
  if not ids then return end
  for i = 1, #ids, ID_LEN do
    if ids:sub(i, i + ID_LEN - 1) == tool then
      ids = ids:sub(1, i - 1) .. ids:sub(i + ID_LEN)
      break
    end
  end
  if ids == '' then redis.call('HDEL', LINKS, server) else redis.call('HSET', LINKS, server, ids) end
end

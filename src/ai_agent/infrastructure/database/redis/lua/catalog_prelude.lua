-- Shared head of the catalog scripts (agents, tools, MCP servers, external services), after
-- id_lists.lua. Every catalog key lives in the one {prefix} slot, so these scripts are atomic
-- on a cluster too. KEYS: [1] records, [2] by-name index, [3] enabled index, [4] MCP server ->
-- tool ids, [5] tool records, [6] MCP server records.
-- A record frame is created .. NUL .. link .. NUL .. name .. NUL .. json, where link is a
-- tool's MCP server id ('' otherwise); index members are name .. NUL .. id, so a
-- lexicographic range sorts by name (UTF-8 byte order = code point order), then id.
local RECORDS, BY_NAME, ENABLED, LINKS, TOOLS, SERVERS =
  KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]

local function parse_frame(frame)
  local a = frame:find(NUL, 1, true)
  local b = frame:find(NUL, a + 1, true)
  local c = frame:find(NUL, b + 1, true)
  return frame:sub(1, a - 1), frame:sub(a + 1, b - 1), frame:sub(b + 1, c - 1), frame:sub(c + 1)
end

local function frame_of(created, link, name, body)
  return created .. NUL .. link .. NUL .. name .. NUL .. body
end

local function link_tool(server, tool) append_id(LINKS, server, tool) end

local function unlink_tool(server, tool) remove_id(LINKS, server, tool) end

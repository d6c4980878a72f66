-- Shared head of the session and catalog preludes: hash fields that hold a list of ids.
-- Ids are canonical UUID strings (fixed width), so a list is their concatenation, with no
-- separator: replies of a message, tools of an MCP server.
local NUL = '\0'
local ID_LEN = 36

local function append_id(hash, field, id)
  if field == '' then return end
  redis.call('HSET', hash, field, (redis.call('HGET', hash, field) or '') .. id)
end

local function remove_id(hash, field, id)
  if field == '' then return end
  local ids = redis.call('HGET', hash, field)
  if not ids then return end
  for i = 1, #ids, ID_LEN do
    if ids:sub(i, i + ID_LEN - 1) == id then
      ids = ids:sub(1, i - 1) .. ids:sub(i + ID_LEN)
      break
    end
  end
  if ids == '' then redis.call('HDEL', hash, field) else redis.call('HSET', hash, field, ids) end
end

-- The ids of a list, in order: `for id in each_id(ids) do ... end`.
local function each_id(ids)
  local i = 1 - ID_LEN
  return function()
    i = i + ID_LEN
    if i <= #ids then return ids:sub(i, i + ID_LEN - 1) end
  end
end

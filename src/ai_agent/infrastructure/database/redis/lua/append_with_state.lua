-- append_with_state (head of with_state.lua, which runs create_messages.lua): create_message
-- with its state deltas, in one script.
-- Ours from ARGV[3]: sid, mid, parent ('' for none), if_last_activity (µs, '' for none),
-- expected doc ('' for no session-state change), new doc, then the scope triples.
-- Every check comes before the first write; replies 'stale' or 'changed' (the doc is no
-- longer the one the new doc was built from) write nothing, like every refusal.
local sid, mid, parent, if_last = ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local expected, doc = ARGV[7], ARGV[8]
local skey = key(T_SESSION, sid)
local row = redis.call('HMGET', skey, 'activity', 'doc')
if not row[1] then return { 'not_found', 'session', sid } end
local messages = key(T_MESSAGES, sid)
if redis.call('HEXISTS', messages, mid) == 1 then return { 'duplicate', 'message', mid } end
if parent ~= '' and redis.call('HEXISTS', messages, parent) == 0 then
  return { 'not_found', 'parent', parent, sid }
end
if if_last ~= '' and int_cmp(row[1], if_last) > 0 then return { 'stale' } end
if expected ~= '' and row[2] ~= expected then return { 'changed' } end

local WRITES_AT = 9
local function on_created()
  if expected ~= '' then redis.call('HSET', skey, 'doc', doc) end
end

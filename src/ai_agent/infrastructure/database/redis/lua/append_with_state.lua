-- append_with_state (states.py prepends the session prelude and inlines create_messages.lua
-- at the BODY marker): create_message with its state deltas, in one script.
-- ARGV[2] how many arguments of ours follow: sid, mid, parent ('' for none), if_last_activity
-- (µs, '' for none), expected doc ('' for no session-state change), new doc, then one
-- (KEYS index, scope key, JSON value) triple per scope key to set (single server only: on a
-- cluster the caller writes the scopes after). create_messages' own ARGV follow ours.
-- Every check comes before the first write; replies 'stale' or 'changed' (the doc is no
-- longer the one the new doc was built from) write nothing, like every refusal.
local OURS = tonumber(ARGV[2])
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

local writes = {}
for i = 9, 2 + OURS, 3 do writes[#writes + 1] = { tonumber(ARGV[i]), ARGV[i + 1], ARGV[i + 2] } end
local ARGV = { ARGV[1], unpack(ARGV, 3 + OURS) }  -- what create_messages.lua reads
local function create()
--@BODY@--
end
local reply = create()
if reply[1] ~= 'ok' then return reply end
if expected ~= '' then redis.call('HSET', skey, 'doc', doc) end
for _, write in ipairs(writes) do redis.call('HSET', KEYS[write[1]], write[2], write[3]) end
return reply

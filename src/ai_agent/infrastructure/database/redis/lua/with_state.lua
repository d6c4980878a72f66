-- with_state: the shared tail of append_with_state.lua and create_session_with_state.lua.
-- _queries.py composes the constants, the session prelude, one of those heads (its checks,
-- WRITES_AT and on_created), then this file with the create script inlined at the BODY
-- marker: the create and the state writes in one script.
-- ARGV[2] how many arguments of ours follow: the head's own, then from ARGV[WRITES_AT] one
-- (KEYS index, scope key, JSON value) triple per scope key to set (single server only: on a
-- cluster the caller writes the scopes after). The create script's own ARGV follow ours.
local OURS = tonumber(ARGV[2])
local writes = {}
for i = WRITES_AT, 2 + OURS, 3 do writes[#writes + 1] = { tonumber(ARGV[i]), ARGV[i + 1], ARGV[i + 2] } end
local ARGV = { ARGV[1], unpack(ARGV, 3 + OURS) }  -- what the create script reads
local function create()
--@BODY@--
end
local reply = create()
if reply[1] ~= 'ok' then return reply end
on_created()
for _, write in ipairs(writes) do redis.call('HSET', KEYS[write[1]], write[2], write[3]) end
return reply

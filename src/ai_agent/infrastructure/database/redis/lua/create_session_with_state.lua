-- create_session_with_state (states.py prepends the session prelude and inlines
-- create_session.lua at the BODY marker): create_session, then its scope deltas, in one
-- script.
-- ARGV[2] how many arguments of ours follow: one (KEYS index, scope key, JSON value) triple
-- per scope key to set (single server only). create_session's own ARGV follow ours.
local OURS = tonumber(ARGV[2])
local writes = {}
for i = 3, 2 + OURS, 3 do writes[#writes + 1] = { tonumber(ARGV[i]), ARGV[i + 1], ARGV[i + 2] } end
local ARGV = { ARGV[1], unpack(ARGV, 3 + OURS) }  -- what create_session.lua reads
local function create()
--@BODY@--
end
local reply = create()
if reply[1] ~= 'ok' then return reply end
for _, write in ipairs(writes) do redis.call('HSET', KEYS[write[1]], write[2], write[3]) end
return reply

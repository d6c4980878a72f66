-- create_session_with_state (head of with_state.lua, which runs create_session.lua):
-- create_session, then its scope deltas, in one script. Ours from ARGV[3]: the scope
-- triples only.
local WRITES_AT = 3
local function on_created() end

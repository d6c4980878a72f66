-- drop_dead_entry (single server): KEYS[1] session index, KEYS[2] session; ARGV[1] sid.
-- Removes the index entry only if the session is really gone (no race with a re-create).
if redis.call('EXISTS', KEYS[2]) == 0 then return redis.call('ZREM', KEYS[1], ARGV[1]) end
return 0

#!lua name=connectfour

-- The store's server side (connectfour/store/redis.py, and the redis_*.py beside it):
-- every change to a game is one call of one of these functions, so that a version
-- is appended exactly once (and, for a decision that read the presence, only while
-- the presence is at the seq it read), and the event announced on the game's
-- channel if and only if it was stored.
--
-- Every key of a game shares its hash tag (one Cluster slot):
--   cf:{id}:log       LIST of encoded events: the game itself, and its version is the log's
--                     length. An entry that cf_move or cf_append stored carries its call id
--                     as one more JSON field, "call", which the decoder ignores, so that a
--                     retried call answers as the first
--   cf:{id}:rec       HASH of what these functions and the sweeps read without the log: the
--                     watch and join keys, created_at, updated_at (the creation, then
--                     cf_touch; the events' own times are in the log), and ended ('1')
--   cf:{id}:calls     HASH: call id -> version, for cf_create (and for appends stored before
--                     the call id went into the entry)
--   cf:{id}:presence  HASH: seq, json (the Presence as connectfour/domain/seats.py encodes it),
--                     empty ('1' if nobody is in it); written whole by cf_presence
--   cf:{id}:chan      the sharded pub/sub channel: "<version> <entry>", presences as version 0
-- Times are kept as the strings the client sent (Python's repr of a float),
-- so they come back exactly; Lua reads them as numbers only to compare.
-- (A game stored before the record lost its version and moves still reads: the
-- store folds the log, and leaves the old fields alone.)

local NO_GAME_PRESENCE_MS = 3600000 -- a presence of no game (yet): gone after an hour

local function channel_of(key, suffix_length)
    return string.sub(key, 1, -(suffix_length + 1)) .. 'chan'
end

-- A presence lives as long as its game: none while the game is played, the
-- game's own expiry once it ended, an hour if there is no such game (yet).
local function bound(presence, rec)
    local ttl = redis.call('PTTL', rec)
    if ttl == -2 then
        redis.call('PEXPIRE', presence, NO_GAME_PRESENCE_MS)
    elseif ttl > 0 then
        redis.call('PEXPIRE', presence, ttl)
    end
end

-- -- the log --------------------------------------------------------------------------

-- Whether `entry` is already the log's `version`: a retry of a call that was stored.
local function stored_as(log, version, last, entry)
    return version and version >= 1 and version <= last and redis.call('LINDEX', log, version - 1) == entry
end

-- KEYS: log
-- ARGV, as connectfour/store/redis_layout.py's MoveArgs sends them, named so on the first
-- line: version, entry (the event's JSON with its call id as the last field).
-- The move of a game that goes on: compare, append, announce, and nothing else.
-- Answers the version.
local function move(keys, args)
    local version, entry = unpack(args, 1, 2)
    local log = keys[1]
    local last = redis.call('LLEN', log)
    local number = tonumber(version)
    if number ~= last + 1 then
        if stored_as(log, number, last, entry) then
            return number
        end
        return redis.error_reply('CONFLICT ' .. last)
    end
    if last == 0 then
        return redis.error_reply('NOGAME')
    end
    redis.call('RPUSH', log, entry)
    redis.call('SPUBLISH', channel_of(log, 3), version .. ' ' .. entry)
    return number
end

local function ended_reply(rec, version)
    local keys = redis.call('HMGET', rec, 'watch_key', 'join_key')
    return { version, keys[1] or '', keys[2] or '' }
end

-- KEYS: log, rec, calls, presence
-- ARGV, as connectfour/store/redis_layout.py's AppendArgs sends them, named so on the first
-- line: version, entry (as cf_move's), ends ('1' if the event ends the game, else ''),
-- retention ms, and the presence's seq the decision read ('' if it read none): the event
-- is stored only if the presence is still at that seq. The rules were applied by the
-- caller: none is here.
-- Answers the version, or {version, watch key, join key} for an event that ends the game.
local function append(keys, args)
    local version, entry, ends, retention, seq = unpack(args, 1, 5)
    local log, rec, calls, presence = keys[1], keys[2], keys[3], keys[4]
    local last = redis.call('LLEN', log)
    local number = tonumber(version)
    if number ~= last + 1 then
        if stored_as(log, number, last, entry) then
            if ends ~= '' then
                return ended_reply(rec, number)
            end
            return number
        end
        return redis.error_reply('CONFLICT ' .. last)
    end
    if last == 0 then
        return redis.error_reply('NOGAME')
    end
    if seq ~= '' and redis.call('HGET', presence, 'seq') ~= seq then
        return redis.error_reply('REFUSED the presence changed since the decision')
    end
    redis.call('RPUSH', log, entry)
    redis.call('SPUBLISH', channel_of(log, 3), version .. ' ' .. entry)
    if ends == '' then
        return number
    end
    -- The game is over: kept `retention` from now, then gone. Its seats go once empty.
    redis.call('HSET', rec, 'ended', '1')
    redis.call('PEXPIRE', log, retention)
    redis.call('PEXPIRE', rec, retention)
    redis.call('PEXPIRE', calls, retention) -- the calls of cf_create
    if redis.call('HGET', presence, 'empty') == '1' then
        redis.call('DEL', presence)
    elseif redis.call('EXISTS', presence) == 1 then
        redis.call('PEXPIRE', presence, retention)
    end
    return ended_reply(rec, number)
end

-- KEYS: log, rec, calls, presence
-- ARGV: call id, event json, then the record's fields and values.
local function create(keys, args)
    local log, rec, calls, presence = keys[1], keys[2], keys[3], keys[4]
    local call, event = args[1], args[2]
    if redis.call('HGET', calls, call) then
        return 1
    end
    local last = redis.call('LLEN', log)
    if last ~= 0 or redis.call('EXISTS', rec) == 1 then
        return redis.error_reply('CONFLICT ' .. last)
    end
    redis.call('RPUSH', log, event)
    redis.call('HSET', calls, call, 1)
    redis.call('HSET', rec, unpack(args, 3))
    redis.call('PERSIST', presence) -- looked at before it existed: it lives with the game now
    redis.call('SPUBLISH', channel_of(log, 3), '1 ' .. event)
    return 1
end

-- KEYS: rec; ARGV: at
local function touch(keys, args)
    local rec, at = keys[1], args[1]
    local updated = redis.call('HGET', rec, 'updated_at')
    if not updated then
        return redis.error_reply('NOGAME')
    end
    if tonumber(at) > tonumber(updated) then
        redis.call('HSET', rec, 'updated_at', at)
    end
    return 1
end

-- KEYS: log, rec, calls, presence
-- ARGV: version, before
-- Deletes the game if it is still at `version` (the sweep read its log there and found
-- it should go) and nobody touched it since `before`: a move stored meanwhile keeps it.
-- Answers {'deleted', watch key, join key}, {'gone'} (no such game) or {'kept'}.
local function delete(keys, args)
    local version, before = tonumber(args[1]), args[2]
    local log, rec, calls, presence = keys[1], keys[2], keys[3], keys[4]
    local stored = redis.call('HMGET', rec, 'updated_at', 'watch_key', 'join_key')
    if not stored[1] then
        return { 'gone' }
    end
    if redis.call('LLEN', log) ~= version or not (tonumber(stored[1]) < tonumber(before)) then
        return { 'kept' }
    end
    redis.call('DEL', log, rec, calls, presence)
    return { 'deleted', stored[2], stored[3] or '' }
end

-- KEYS: presence, rec
-- ARGV, as connectfour/store/redis_seats.py's PresenceArgs sends them, named so on the first
--       line: the seq the caller read ('' if it found none), then the new presence: its seq,
--       its JSON (as the caller encoded it), '1' if nobody is in it, '1' to announce it.
-- Writes the presence the caller made (connectfour/domain/seats.py knows how) only if the
-- stored one is still the one it read; else answers what is stored, {seq, json}, for the
-- caller to make its change again on. An ended game's presence goes when a change (the
-- announced writes; a first look is not one) leaves nobody in it.
local function presence_write(keys, args)
    local read, seq, json, nobody, announce = unpack(args, 1, 5)
    local presence, rec = keys[1], keys[2]
    local stored = redis.call('HMGET', presence, 'seq', 'json')
    if (stored[1] or '') ~= read then
        return { stored[1] or '', stored[2] or '' }
    end
    if nobody == '1' and announce == '1' and redis.call('HEXISTS', rec, 'ended') == 1 then
        redis.call('DEL', presence)
    else
        redis.call('HSET', presence, 'seq', seq, 'json', json, 'empty', nobody)
        bound(presence, rec)
    end
    if announce == '1' then
        redis.call('SPUBLISH', channel_of(presence, 8), '0 ' .. json)
    end
    return 1
end

redis.register_function('cf_move', move)
redis.register_function('cf_append', append)
redis.register_function('cf_create', create)
redis.register_function('cf_touch', touch)
redis.register_function('cf_delete', delete)
redis.register_function('cf_presence', presence_write)

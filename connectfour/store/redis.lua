#!lua name=connectfour

-- The store's server side (connectfour/store/redis.py): every change to a
-- game is one call of one of these functions, so that a version is appended
-- exactly once, its condition checked against the stored presence, and the
-- event announced on the game's channel if and only if it was stored.
--
-- Every key of a game shares its hash tag (one Cluster slot):
--   cf:{id}:log       LIST of encoded events (the version is its length); an entry that
--                     cf_append stored carries its call id as one more JSON field, "call",
--                     which the decoder ignores, so that a retried call answers as the first
--   cf:{id}:rec       HASH: the record's fields (moves as a digit string)
--   cf:{id}:calls     HASH: call id -> version, for cf_create (and for appends stored before
--                     the call id went into the entry)
--   cf:{id}:presence  HASH: the seats (red, red_c, red_left, ...), w:<process> -> spectators, seq
--   cf:{id}:chan      the sharded pub/sub channel: "<version> <json>", presences as version 0
-- Times are kept as the strings the client sent (Python's repr of a float),
-- so they come back exactly; Lua reads them as numbers only to compare.

local NO_GAME_PRESENCE_MS = 3600000 -- a presence of no game (yet): gone after an hour

local function channel_of(key, suffix_length)
    return string.sub(key, 1, -(suffix_length + 1)) .. 'chan'
end

local function now_us()
    local t = redis.call('TIME')
    return tonumber(t[1]) * 1000000 + tonumber(t[2])
end

-- seq orders presences: it never goes back, even for a presence deleted and made again.
local function next_seq(old)
    local seq = now_us()
    old = tonumber(old) or 0
    if old + 1 > seq then
        seq = old + 1
    end
    return string.format('%d', seq)
end

-- -- presence ------------------------------------------------------------------------

local function load_presence(key)
    local flat = redis.call('HGETALL', key)
    if #flat == 0 then
        return nil
    end
    local p = { watching = {} }
    for i = 1, #flat, 2 do
        local field, value = flat[i], flat[i + 1]
        if string.sub(field, 1, 2) == 'w:' then
            p.watching[string.sub(field, 3)] = value
        else
            p[field] = value
        end
    end
    return p
end

local function presence_json(p)
    local parts = { '"seq":' .. p.seq }
    for _, color in ipairs({ 'red', 'yellow' }) do
        if p[color] then
            parts[#parts + 1] = '"' .. color .. '":[' .. cjson.encode(p[color]) .. ',' .. p[color .. '_c'] .. ']'
        end
    end
    for _, color in ipairs({ 'red', 'yellow' }) do
        local left = p[color .. '_left']
        if left then
            parts[#parts + 1] = '"' .. color .. '_left":' .. left
        end
    end
    if next(p.watching) then
        local watching = {}
        for process, count in pairs(p.watching) do
            watching[#watching + 1] = cjson.encode(process) .. ':' .. count
        end
        parts[#parts + 1] = '"watching":{' .. table.concat(watching, ',') .. '}'
    end
    return '{' .. table.concat(parts, ',') .. '}'
end

local function empty(p)
    return not p.red and not p.yellow and next(p.watching) == nil
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

-- The game's presence; a first look (both seats free since now) if it had none, stored unannounced.
local function get_presence(presence, rec, now)
    local p = load_presence(presence)
    if p then
        return p
    end
    p = { seq = next_seq(0), red_left = now, yellow_left = now, watching = {} }
    redis.call('HSET', presence, 'seq', p.seq, 'red_left', now, 'yellow_left', now)
    bound(presence, rec)
    return p
end

-- -- conditions: the registry is in another slot; the client read it (ZMSCORE) ---------

-- args from `from`: read_us, limit_us, then process, expiry ('' if not registered) pairs.
local function expiries_from(args, from)
    if now_us() - tonumber(args[from]) > tonumber(args[from + 1]) then
        return nil
    end
    local expiries = {}
    for i = from + 2, #args, 2 do
        expiries[args[i]] = tonumber(args[i + 1]) or -math.huge -- not registered: dead long ago
    end
    return expiries
end

-- When the holder's registration runs out; a process the client did not read took
-- its seat after the read, so it registered just before: alive.
local function expiry(expiries, process)
    local e = expiries[process]
    if e == nil then
        return math.huge
    end
    return e
end

-- Presence.away_since
local function away_since(p, color, expiries, at)
    local holder = p[color]
    if holder then
        local ended = expiry(expiries, holder)
        if ended <= at then
            return ended
        end
        return nil
    end
    return tonumber(p[color .. '_left'])
end

-- nil if the condition holds, else the error to answer.
local function refusal(kind, presence, rec, at_text, args)
    local at = tonumber(at_text)
    if kind == 'claim' then
        local color, grace = args[11], tonumber(args[12])
        local expiries = expiries_from(args, 13)
        if not expiries then
            return redis.error_reply('STALE')
        end
        local p = get_presence(presence, rec, at_text)
        local since = away_since(p, color, expiries, at)
        if since == nil or at - since < grace then
            return redis.error_reply('REFUSED the opponent is not away long enough to claim')
        end
    elseif kind == 'expire' then
        local expiries = expiries_from(args, 11)
        if not expiries then
            return redis.error_reply('STALE')
        end
        local p = load_presence(presence)
        if p then
            for _, color in ipairs({ 'red', 'yellow' }) do
                if p[color] and expiry(expiries, p[color]) > at then
                    return redis.error_reply('REFUSED a seat is held, so it does not expire')
                end
            end
        end
    else
        return redis.error_reply('ERR unknown condition ' .. kind)
    end
    return nil
end

-- -- the log --------------------------------------------------------------------------

local function ended_reply(rec, version)
    local keys = redis.call('HMGET', rec, 'watch_key', 'join_key')
    return { version, keys[1] or '', keys[2] or '' }
end

-- KEYS: log, rec, calls, presence
-- ARGV: version, call id, event json, at, column ('' or a digit), result, reason
--       ('' unless it ends the game), joined ('1' or ''), retention ms, condition
--       ('' | 'claim' | 'expire'), then the condition's arguments.
-- Answers the version, or {version, watch key, join key} for an event that ends the game.
local function append(keys, args)
    local log, rec, presence = keys[1], keys[2], keys[4]
    local version, event, at = tonumber(args[1]), args[3], args[4]
    local column, result, reason, joined = args[5], args[6], args[7], args[8]
    -- The entry: the event's JSON object with the call id as its last field.
    local entry = string.sub(event, 1, -2) .. ',"call":"' .. args[2] .. '"}'
    -- The record's version is the log's length (both are written only here and by cf_create).
    local stored = redis.call('HMGET', rec, 'version', 'updated_at', 'moves', 'result')
    local last = tonumber(stored[1]) or 0
    if version ~= last + 1 then
        if version and version >= 1 and version <= last and redis.call('LINDEX', log, version - 1) == entry then
            -- a retry of a call that was stored: answer as it did
            if result ~= '' then
                return ended_reply(rec, version)
            end
            return version
        end
        return redis.error_reply('CONFLICT ' .. last)
    end
    if last == 0 then
        return redis.error_reply('NOGAME')
    end
    local condition = args[10]
    if condition ~= '' then
        local refused = refusal(condition, presence, rec, at, args)
        if refused then
            return refused
        end
    end
    redis.call('RPUSH', log, entry)
    local fields = { 'version', version }
    if tonumber(at) > tonumber(stored[2]) then
        fields[#fields + 1] = 'updated_at'
        fields[#fields + 1] = at
    end
    if column ~= '' then
        fields[#fields + 1] = 'moves'
        fields[#fields + 1] = (stored[3] or '') .. column
    end
    if joined ~= '' then
        fields[#fields + 1] = 'invite_spent'
        fields[#fields + 1] = '1'
    end
    local ends = result ~= ''
    if ends and not stored[4] then
        fields[#fields + 1] = 'result'
        fields[#fields + 1] = result
        fields[#fields + 1] = 'reason'
        fields[#fields + 1] = reason
        fields[#fields + 1] = 'finished_at'
        fields[#fields + 1] = at
    end
    redis.call('HSET', rec, unpack(fields))
    redis.call('SPUBLISH', channel_of(log, 3), args[1] .. ' ' .. event)
    if not ends then
        return version
    end
    -- The game is over: kept `retention` from now, then gone. Its seats go once empty.
    local retention = args[9]
    redis.call('PEXPIRE', log, retention)
    redis.call('PEXPIRE', rec, retention)
    redis.call('PEXPIRE', keys[3], retention) -- the calls of cf_create
    local p = load_presence(presence)
    if p then
        if empty(p) then
            redis.call('DEL', presence)
        else
            redis.call('PEXPIRE', presence, retention)
        end
    end
    return ended_reply(rec, version)
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
-- ARGV: 'unplayed' (no move) or 'idle' (any), before
-- Deletes the game if it still qualifies, checked here so that a move stored
-- meanwhile keeps it. Answers {'deleted', watch key, join key}, {'gone'} (no
-- such game), {'played'} (it has a move) or {'kept'} (activity since).
local function delete(keys, args)
    local log, rec, calls, presence = keys[1], keys[2], keys[3], keys[4]
    local stored = redis.call('HMGET', rec, 'updated_at', 'moves', 'watch_key', 'join_key')
    if not stored[1] then
        return { 'gone' }
    end
    if args[1] == 'unplayed' and stored[2] ~= '' then
        return { 'played' }
    end
    if not (tonumber(stored[1]) < tonumber(args[2])) then
        return { 'kept' }
    end
    redis.call('DEL', log, rec, calls, presence)
    return { 'deleted', stored[3], stored[4] or '' }
end

-- KEYS: presence, rec
-- ARGV: op ('look' | 'take' | 'leave' | 'watch'), now, then
--   take: process, connection, colors...; leave: process, connection; watch: process, count.
-- Mirrors Presence.take / leave / watched; a change is stored and announced as version 0.
local function seats(keys, args)
    local presence, rec = keys[1], keys[2]
    local op, now = args[1], args[2]
    local p = get_presence(presence, rec, now)
    local changed = false
    if op == 'take' then
        local process, connection = args[3], args[4]
        for i = 5, #args do
            local color = args[i]
            p[color], p[color .. '_c'], p[color .. '_left'] = process, connection, nil
            redis.call('HSET', presence, color, process, color .. '_c', connection)
            redis.call('HDEL', presence, color .. '_left')
        end
        changed = true
    elseif op == 'leave' then
        local process, connection = args[3], args[4]
        for _, color in ipairs({ 'red', 'yellow' }) do
            if p[color] == process and p[color .. '_c'] == connection then
                p[color], p[color .. '_c'], p[color .. '_left'] = nil, nil, now
                redis.call('HDEL', presence, color, color .. '_c')
                redis.call('HSET', presence, color .. '_left', now)
                changed = true
            end
        end
    elseif op == 'watch' then
        local process, count = args[3], args[4]
        if tonumber(p.watching[process] or '0') ~= tonumber(count) then
            if tonumber(count) > 0 then
                p.watching[process] = count
                redis.call('HSET', presence, 'w:' .. process, count)
            else
                p.watching[process] = nil
                redis.call('HDEL', presence, 'w:' .. process)
            end
            changed = true
        end
    elseif op ~= 'look' then
        return redis.error_reply('ERR unknown seats operation ' .. op)
    end
    if not changed then
        return presence_json(p)
    end
    p.seq = next_seq(p.seq)
    redis.call('HSET', presence, 'seq', p.seq)
    local json = presence_json(p)
    if empty(p) and redis.call('HEXISTS', rec, 'result') == 1 then
        redis.call('DEL', presence) -- an ended game nobody is in any more
    end
    redis.call('SPUBLISH', channel_of(presence, 8), '0 ' .. json)
    return json
end

redis.register_function('cf_append', append)
redis.register_function('cf_create', create)
redis.register_function('cf_touch', touch)
redis.register_function('cf_delete', delete)
redis.register_function('cf_seats', seats)

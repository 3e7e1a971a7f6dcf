#!lua name=connectfour_match

-- The quick-match queue in Redis (connectfour/store/redis_match.py): one
-- list of the waiting games' ids, oldest first, and a hash of their tickets
-- ("<join key> <expiry>"), both under the hash tag {cf:match} (one Cluster
-- slot). A ticket is taken, offered, withdrawn or renewed in one call, so two
-- processes can never both queue their players when one could take the other.

-- A queue nobody used for an hour goes, with the tickets of processes that
-- died while their players waited (a live ticket is renewed every few seconds).
local IDLE_MS = 3600000

local function keep(keys)
    redis.call('PEXPIRE', keys[1], IDLE_MS)
    redis.call('PEXPIRE', keys[2], IDLE_MS)
end

-- The oldest live ticket, out of the queue; dead ones on the way are dropped.
local function pop_live(queue, tickets, now)
    while true do
        local id = redis.call('LPOP', queue)
        if not id then
            return nil
        end
        local ticket = redis.call('HGET', tickets, id)
        if ticket then
            redis.call('HDEL', tickets, id)
            local join, expires = string.match(ticket, '^(%S+) (%S+)$')
            if tonumber(expires) > now then
                return {id, join}
            end
        end
    end
end

-- KEYS: queue, tickets. ARGV: now; then, to queue one's own when nobody waits:
-- game, join key, ttl.
redis.register_function('cf_match_take', function(keys, args)
    local now = tonumber(args[1])
    if args[2] ~= nil then
        -- One's own ticket still queued (another tab of the same player): it waits as it
        -- is; a player is never paired with itself.
        local own = redis.call('HGET', keys[2], args[2])
        if own and tonumber(string.match(own, ' (%S+)$')) > now then
            return nil
        end
    end
    local taken = pop_live(keys[1], keys[2], now)
    if taken or args[2] == nil then
        return taken
    end
    redis.call('RPUSH', keys[1], args[2])
    redis.call('HSET', keys[2], args[2], args[3] .. ' ' .. string.format('%.6f', now + tonumber(args[4])))
    keep(keys)
    return nil
end)

-- KEYS: queue, tickets. ARGV: game. 1 if withdrawn, 0 if no longer queued.
redis.register_function('cf_match_cancel', function(keys, args)
    if redis.call('HDEL', keys[2], args[1]) == 0 then
        return 0
    end
    redis.call('LREM', keys[1], 1, args[1])
    return 1
end)

-- KEYS: queue, tickets. ARGV: now, ttl, game... Live tickets last ttl from now.
redis.register_function('cf_match_renew', function(keys, args)
    local now, ttl = tonumber(args[1]), tonumber(args[2])
    for i = 3, #args do
        local ticket = redis.call('HGET', keys[2], args[i])
        if ticket then
            local join, expires = string.match(ticket, '^(%S+) (%S+)$')
            if tonumber(expires) > now then
                redis.call('HSET', keys[2], args[i], join .. ' ' .. string.format('%.6f', now + ttl))
            end
        end
    end
    if redis.call('EXISTS', keys[2]) == 1 then
        keep(keys)
    end
    return 0
end)

//! The Lua scripts: each is one atomic step on the server, sent by SHA
//! (EVALSHA, loaded on first use).

use ::redis::Script;

/// GCRA, as `crate::ratelimit::gcra` computes it, on the server's clock.
/// KEYS[1] the counter; ARGV interval and period in µs. Returns
/// `{1, reset_after}` when admitted, `{0, retry_after}` when not.
const GCRA: &str = r"
local interval = tonumber(ARGV[1])
local period = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local new_tat = tat + interval
local allow_at = new_tat - period
if now < allow_at then
  return {0, allow_at - now}
end
local ttl_ms = math.ceil((new_tat - now) / 1000)
if ttl_ms < 1 then ttl_ms = 1 end
redis.call('SET', KEYS[1], string.format('%d', new_tat), 'PX', ttl_ms)
return {1, new_tat - now}
";

/// Record a live session unless it has been revoked: a revocation (a
/// tombstone) always wins over a concurrent login, refresh or refill.
/// KEYS[1] `session:{id}`; ARGV value and TTL in ms. Returns 1 if written.
const SESSION_PUT: &str = r"
if redis.call('GET', KEYS[1]) == 'revoked' then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
";

/// A cached value, or on a miss the versions a refill must still see for
/// its write to count. KEYS: value, global, namespace and key version keys.
/// Returns `{1, value}` or `{0, versions}`.
const CACHE_GET: &str = r"
local v = redis.call('GET', KEYS[1])
if v then return {1, v} end
local g = redis.call('GET', KEYS[2]) or '0'
local n = redis.call('GET', KEYS[3]) or '0'
local k = redis.call('GET', KEYS[4]) or '0'
return {0, g .. '.' .. n .. '.' .. k}
";

/// Fill a cache entry only if nothing was invalidated since the miss that
/// led to it, so a slow loader cannot put back a value a writer just
/// removed. KEYS as CACHE_GET; ARGV value, TTL in ms, versions seen.
const CACHE_FILL: &str = r"
local g = redis.call('GET', KEYS[2]) or '0'
local n = redis.call('GET', KEYS[3]) or '0'
local k = redis.call('GET', KEYS[4]) or '0'
if g .. '.' .. n .. '.' .. k ~= ARGV[3] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
";

/// Remove entries and bump their versions. KEYS alternate value key and
/// version key; ARGV[1] is the version keys' TTL in ms.
const CACHE_INVALIDATE: &str = r"
for i = 1, #KEYS, 2 do
  redis.call('DEL', KEYS[i])
  redis.call('INCR', KEYS[i + 1])
  redis.call('PEXPIRE', KEYS[i + 1], ARGV[1])
end
return 1
";

pub(crate) struct Scripts {
    pub gcra: Script,
    pub session_put: Script,
    pub cache_get: Script,
    pub cache_fill: Script,
    pub cache_invalidate: Script,
}

impl Scripts {
    pub(crate) fn new() -> Self {
        Scripts {
            gcra: Script::new(GCRA),
            session_put: Script::new(SESSION_PUT),
            cache_get: Script::new(CACHE_GET),
            cache_fill: Script::new(CACHE_FILL),
            cache_invalidate: Script::new(CACHE_INVALIDATE),
        }
    }
}

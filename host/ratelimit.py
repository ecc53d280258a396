"""Token-bucket rate limits per API key: in process, or one global bucket in Redis.

The Redis variant runs the whole refill-and-take step in one Lua script with Redis'
own clock, so every instance behind a load balancer draws from the same bucket and no
two requests can both take the last token.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

__all__ = ["MemoryRateLimiter", "RedisRateLimiter", "Decision"]

Decision = tuple[bool, float]  # (allowed, retry_after_seconds)


class MemoryRateLimiter:
    def __init__(self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate, self.burst, self._clock = rate, burst, clock
        self._buckets: dict[str, tuple[float, float]] = {}

    async def take(self, key: str, cost: float = 1.0) -> Decision:
        now = self._clock()
        tokens, ts = self._buckets.get(key, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - ts) * self.rate)
        if tokens >= cost:
            self._buckets[key] = (tokens - cost, now)
            return True, 0.0
        self._buckets[key] = (tokens, now)
        return False, (cost - tokens) / self.rate


_LUA = """
local key = KEYS[1]
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local b = redis.call('HMGET', key, 'tokens', 'ts')
local tokens = tonumber(b[1])
local ts = tonumber(b[2])
if tokens == nil then tokens = burst; ts = now end
tokens = math.min(burst, tokens + math.max(0, now - ts) * rate)
local allowed = 0
local retry = 0
if tokens >= cost then
  tokens = tokens - cost
  allowed = 1
else
  retry = (cost - tokens) / rate
end
redis.call('HSET', key, 'tokens', tostring(tokens), 'ts', tostring(now))
redis.call('EXPIRE', key, math.ceil(burst / rate) + 1)
return {allowed, tostring(retry)}
"""


class RedisRateLimiter:
    def __init__(self, client: Any, rate: float, burst: int, prefix: str = "haltguard:") -> None:
        self.rate, self.burst = rate, burst
        self._prefix = prefix + "rl:"
        self._script = client.register_script(_LUA)

    async def take(self, key: str, cost: float = 1.0) -> Decision:
        allowed, retry = await self._script(keys=[self._prefix + key], args=[self.rate, self.burst, cost])
        return bool(int(allowed)), float(retry)


def retry_after_header(seconds: float) -> str:
    return str(max(1, math.ceil(seconds)))

"""Per-key rate limits (the `limits` library): in process by default, Redis across replicas."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

import redis.asyncio as redis
from limits import RateLimitItem, parse_many
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter

from mnemo.errors import ConfigurationError, RateLimitedError, StoreUnavailableError
from mnemo.models import Principal


@dataclass(frozen=True)
class RateLimitState:
    """What the X-RateLimit-* headers report: the tier's first (main) limit."""

    limit: int
    remaining: int
    reset_at: int  # epoch seconds


class RateLimiter:
    """Each tier is a list of limits ("100/minute; 20/10 seconds"); all must allow a hit."""

    def __init__(self, tiers: dict[str, str], redis_url: str | None = None) -> None:
        try:
            self._tiers = {name: parse_many(spec) for name, spec in tiers.items() if spec}
        except ValueError as exc:
            raise ConfigurationError(f"bad rate limit tier: {exc}") from exc
        storage: Storage = MemoryStorage()
        self._pool: redis.ConnectionPool | None = None
        if redis_url:
            # Our own pool, so shutdown can close its connections.
            self._pool = redis.ConnectionPool.from_url(redis_url)
            uri = redis_url.replace("redis://", "async+redis://", 1)
            # limits types its options as scalars, but hands them to redis.asyncio as is.
            pool: Any = self._pool
            storage = RedisStorage(uri, implementation="redispy", connection_pool=pool)
        self._limiter = MovingWindowRateLimiter(storage)

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.aclose()

    async def hit(self, principal: Principal) -> RateLimitState | None:
        """Count one request; raise RateLimitedError when any limit of the tier is spent."""
        items = self._tiers.get(principal.rate_tier)
        if not items:
            return None
        key = principal.key_id
        try:
            for item in items:
                if not await self._limiter.hit(item, key):
                    stats = await self._limiter.get_window_stats(item, key)
                    retry_after = max(1, math.ceil(stats.reset_time - time.time()))
                    raise RateLimitedError(
                        f"rate limit of {item} exceeded for this API key; retry in {retry_after}s",
                        retry_after=retry_after,
                    )
            return await self._state(items[0], key)
        except (ConnectionError, OSError) as exc:
            raise StoreUnavailableError(f"rate limit storage unavailable: {exc}") from exc

    async def _state(self, item: RateLimitItem, key: str) -> RateLimitState:
        stats = await self._limiter.get_window_stats(item, key)
        return RateLimitState(item.amount, stats.remaining, math.ceil(stats.reset_time))

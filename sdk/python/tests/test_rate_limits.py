"""The real server's per-key rate limit: its 429 is retried, then raised with Retry-After."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from mnemo.config import RateLimitsConfig, Settings
from mnemo_client import AsyncClient, Client, RateLimitedError, RetryPolicy

# Retry-After is capped so that the test does not sit out the server's one-minute window.
QUICK = RetryPolicy(max_retries=1, max_retry_after=0.01)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Keys of the standard tier may send 3 requests a minute."""
    tight = RateLimitsConfig(tiers={"standard": "3/minute", "operator": ""})
    return Settings(data_dir=tmp_path / "data", rate_limits=tight)


def test_a_spent_limit_raises_rate_limited_with_retry_after(
    server_url: str, make_key: Callable[[str], str]
) -> None:
    with Client(server_url, api_key=make_key("acme"), retry=QUICK) as tenant:
        for _ in range(3):
            tenant.working_memory.list()
        with pytest.raises(RateLimitedError, match="rate limit of .* exceeded") as caught:
            tenant.working_memory.list()
    assert caught.value.status_code == 429
    assert caught.value.retry_after is not None and caught.value.retry_after >= 1


async def test_the_async_client_sees_the_same_limit(
    server_url: str, make_key: Callable[[str], str]
) -> None:
    async with AsyncClient(server_url, api_key=make_key("acme"), retry=QUICK) as tenant:
        for _ in range(3):
            await tenant.memories.search("")
        with pytest.raises(RateLimitedError):
            await tenant.memories.search("")

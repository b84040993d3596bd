"""When to retry a request, and how long to wait first: pure decisions, no I/O."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import httpx

from mnemo_client.errors import retry_after_seconds

RETRY_STATUSES = frozenset({429, 503})
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
# The request never reached the server: safe to send again whatever its method.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


@dataclass(frozen=True)
class RetryPolicy:
    """Retries 429 and 503 answers (any method: the server did not act on them) and transport
    failures (of idempotent methods, or of any method if the connection was never made).

    The wait is the answer's Retry-After when it has one, capped at `max_retry_after`;
    otherwise exponential backoff with full jitter: uniform(0, min(backoff_max,
    backoff_base * 2**attempt)).
    """

    max_retries: int = 3
    backoff_base: float = 0.5
    backoff_max: float = 8.0
    max_retry_after: float = 60.0
    rng: random.Random = field(default_factory=random.Random, compare=False, repr=False)

    def delay_after(
        self, method: str, attempt: int, outcome: httpx.Response | httpx.RequestError
    ) -> float | None:
        """Seconds to wait before attempt `attempt + 1`, or None to stop here.

        `attempt` counts from 0 (the first try).
        """
        if attempt >= self.max_retries:
            return None
        if isinstance(outcome, httpx.Response):
            if outcome.status_code not in RETRY_STATUSES:
                return None
            retry_after = retry_after_seconds(outcome.headers)
            if retry_after is not None:
                return min(retry_after, self.max_retry_after)
            return self.backoff(attempt)
        if not isinstance(outcome, httpx.TransportError):
            return None  # e.g. too many redirects: sending again would not help
        if method.upper() in IDEMPOTENT_METHODS or isinstance(outcome, _NOT_SENT):
            return self.backoff(attempt)
        return None

    def backoff(self, attempt: int) -> float:
        ceiling = min(self.backoff_max, self.backoff_base * 2**attempt)
        return self.rng.uniform(0.0, ceiling)

"""Per-action request rate limit, so clients can exercise their handling of TooManyRequestsException."""
from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime


class RequestRateLimiter:
    """A token bucket per action: `per_second` requests a second, with bursts of up to `per_second` requests.

    NOTE: Cognito's real quotas apply per category of actions, account and Region;
    this limiter applies one rate to each action on its own.
    """

    def __init__(self, per_second: float, clock: Callable[[], datetime]) -> None:
        if per_second <= 0:
            raise ValueError(f"per_second must be positive, got {per_second}")
        self._rate = per_second
        self._capacity = max(per_second, 1.0)
        self._clock = clock
        self._lock = threading.Lock()
        self._buckets: dict[str, tuple[float, float]] = {}  # action: (tokens, time in seconds)

    def allow(self, action: str) -> bool:
        """Take one request from the action's bucket; return False when the bucket is empty."""
        now = self._clock().timestamp()
        with self._lock:
            tokens, updated = self._buckets.get(action, (self._capacity, now))
            tokens = min(self._capacity, tokens + (now - updated) * self._rate)
            allowed = tokens >= 1.0
            self._buckets[action] = (tokens - 1.0 if allowed else tokens, now)
            return allowed

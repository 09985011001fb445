"""When to try a failed call again, and how long to wait first.

Only errors that say they are retryable are retried: ``ProviderError.retryable`` is true for
rate limits, overload and 5xx (``ProviderUnavailableError``, connection resets included) and
timeouts, and false for authentication errors, invalid requests, context-window errors and
exhausted quotas. Anything that is not a ``ProviderError`` (a bug, a cancellation) is never retried.

The wait before attempt ``n + 1`` (after attempt ``n`` failed) is:

* **backoff** — "full jitter": a uniform random number in
  ``[0, min(max_delay_s, base_delay_s × 2^(n-1))]``. Jitter spreads the retries of many clients
  that failed together, so they do not all come back at the same instant.
* **Retry-After** — when the provider said how long to wait (``error.retry_after``), the wait is
  ``max(retry_after, backoff)``: the provider's value is a floor (coming back earlier is known to
  fail), and the jittered backoff still spreads clients that were all told the same value.
* **the cap** — a ``retry_after`` above ``max_retry_after_s`` is not waited for at all:
  ``should_retry`` says no, so a group fails over to its next member at once and a single model
  raises the ``RateLimitError`` (whose ``retry_after`` tells the caller when to come back),
  instead of blocking a thread for minutes.

So every delay lies in ``[0, max(max_delay_s, max_retry_after_s)]``. ``sleep`` and ``asleep``
are injectable so tests run without waiting.
"""

from __future__ import annotations

import asyncio
import random
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any

from modelwire.config.schema import RetryConfig
from modelwire.errors import ProviderError

__all__ = ["SINGLE_ATTEMPT", "RetryPolicy", "is_retryable", "retry_after_of"]


def is_retryable(error: BaseException) -> bool:
    """True for provider errors that declare themselves retryable."""
    return isinstance(error, ProviderError) and bool(error.retryable)


def retry_after_of(error: BaseException) -> float | None:
    """The seconds the provider asked us to wait (``Retry-After``), when it said."""
    value = getattr(error, "retry_after", None)
    if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
        return float(value)
    return None


class RetryPolicy:
    """Exponential backoff with full jitter, ``Retry-After`` honoured up to a cap.

    ``attempt`` arguments are 1-based: the number of the attempt that just failed.
    """

    def __init__(
        self,
        max_attempts: int = 3,
        base_delay_s: float = 0.5,
        max_delay_s: float = 20.0,
        max_retry_after_s: float = 60.0,
        *,
        rng: random.Random | None = None,
        sleep: Callable[[float], Any] = time.sleep,
        asleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if min(base_delay_s, max_delay_s, max_retry_after_s) < 0:
            raise ValueError("delays must not be negative")
        self.max_attempts = max_attempts
        self.base_delay_s = base_delay_s
        self.max_delay_s = max_delay_s
        self.max_retry_after_s = max_retry_after_s
        self._rng = rng if rng is not None else random.Random()
        self._rng_lock = threading.Lock()
        self._sleep = sleep
        self._asleep = asleep

    @classmethod
    def from_config(cls, config: RetryConfig, **kwargs: Any) -> RetryPolicy:
        """A policy from the ``retry:`` settings; ``kwargs`` set ``rng``, ``sleep``, ``asleep``."""
        return cls(
            max_attempts=config.max_attempts,
            base_delay_s=config.base_delay_s,
            max_delay_s=config.max_delay_s,
            max_retry_after_s=config.max_retry_after_s,
            **kwargs,
        )

    def __repr__(self) -> str:
        return (
            f"RetryPolicy(max_attempts={self.max_attempts}, base_delay_s={self.base_delay_s}, "
            f"max_delay_s={self.max_delay_s}, max_retry_after_s={self.max_retry_after_s})"
        )

    @property
    def max_wait_s(self) -> float:
        """The longest single delay this policy can return."""
        return max(self.max_delay_s, self.max_retry_after_s)

    def retryable(self, error: BaseException) -> bool:
        """True when ``error`` may succeed on another try (ignoring the attempt count).

        A rate limit whose ``retry_after`` exceeds ``max_retry_after_s`` is not: it is better to
        fail over (or give the caller the error) than to wait that long.
        """
        if not is_retryable(error):
            return False
        after = retry_after_of(error)
        return after is None or after <= self.max_retry_after_s

    def should_retry(self, error: BaseException, attempt: int) -> bool:
        """True when attempt ``attempt`` failed with ``error`` and another attempt may follow."""
        return attempt < self.max_attempts and self.retryable(error)

    def backoff(self, attempt: int) -> float:
        """The jittered exponential backoff after failed attempt ``attempt`` (1-based)."""
        exp = min(max(attempt, 1) - 1, 64)  # 2**64 × base is beyond any cap; avoids overflow
        ceiling = min(self.max_delay_s, self.base_delay_s * (2.0**exp))
        with self._rng_lock:
            return self._rng.uniform(0.0, ceiling) if ceiling > 0 else 0.0

    def delay(self, error: BaseException | None, attempt: int) -> float:
        """Seconds to wait after attempt ``attempt`` failed with ``error`` (see module docs)."""
        wait = self.backoff(attempt)
        after = retry_after_of(error) if error is not None else None
        if after is not None:
            wait = max(wait, min(after, self.max_retry_after_s))
        return wait

    def sleep(self, seconds: float) -> None:
        """Block for ``seconds`` (the injected sleeper; ``time.sleep`` by default)."""
        if seconds > 0:
            self._sleep(seconds)

    async def asleep(self, seconds: float) -> None:
        """Wait ``seconds`` without blocking the event loop (``asyncio.sleep`` by default)."""
        if seconds > 0:
            await self._asleep(seconds)


SINGLE_ATTEMPT = RetryPolicy(max_attempts=1)
"""The policy of each attempt at a group member: retries belong to the group."""

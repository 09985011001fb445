"""The retry policy: which errors are retried, and how long to wait."""

from __future__ import annotations

import asyncio
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from modelwire.config.schema import RetryConfig
from modelwire.errors import (
    AllModelsFailedError,
    AuthenticationError,
    ContextWindowError,
    InvalidRequestError,
    ModelNotFoundError,
    ProviderError,
    ProviderUnavailableError,
    RateLimitError,
    TimeoutError,
)
from modelwire.routing.retry import RetryPolicy, is_retryable, retry_after_of

RETRYABLE = [
    RateLimitError("slow down"),
    RateLimitError("slow down", retry_after=2.0),
    ProviderUnavailableError("503"),
    ProviderUnavailableError("connection reset"),
    TimeoutError("late"),
]
NOT_RETRYABLE: list[BaseException] = [
    AuthenticationError("bad key"),
    InvalidRequestError("bad request"),
    ContextWindowError("too long"),
    RateLimitError("quota exhausted", retryable=False),
    ProviderError("generic"),
    AllModelsFailedError("all failed"),
    ModelNotFoundError("x"),
    ValueError("bug"),
    KeyboardInterrupt(),
]

attempts = st.integers(min_value=1, max_value=200)
delays = st.floats(min_value=0, max_value=100, allow_nan=False)


def policy(**kw: object) -> RetryPolicy:
    return RetryPolicy(rng=random.Random(0), **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize("error", RETRYABLE, ids=lambda e: f"{type(e).__name__}-{e}")
def test_retryable_errors_are_retried_until_max_attempts(error: ProviderError) -> None:
    p = policy(max_attempts=3)
    assert is_retryable(error)
    assert p.should_retry(error, 1)
    assert p.should_retry(error, 2)
    assert not p.should_retry(error, 3)


@pytest.mark.parametrize("error", NOT_RETRYABLE, ids=lambda e: type(e).__name__)
def test_non_retryable_errors_are_never_retried(error: BaseException) -> None:
    p = policy(max_attempts=20)
    assert not is_retryable(error)
    assert not any(p.should_retry(error, n) for n in range(1, 21))


@given(
    st.sampled_from(NOT_RETRYABLE),
    attempts,
    st.integers(min_value=1, max_value=20),
)
def test_property_never_retries_non_retryable(error: BaseException, attempt: int, mx: int) -> None:
    assert not RetryPolicy(max_attempts=mx).should_retry(error, attempt)


@given(
    attempt=attempts,
    base=delays,
    max_delay=delays,
    cap=delays,
    retry_after=st.none() | delays,
    seed=st.integers(0, 2**32),
)
def test_property_delay_bounds(
    attempt: int,
    base: float,
    max_delay: float,
    cap: float,
    retry_after: float | None,
    seed: int,
) -> None:
    p = RetryPolicy(
        base_delay_s=base, max_delay_s=max_delay, max_retry_after_s=cap, rng=random.Random(seed)
    )
    err = RateLimitError("x", retry_after=retry_after)
    wait = p.delay(err, attempt)
    assert 0 <= wait <= p.max_wait_s
    assert 0 <= p.backoff(attempt) <= min(max_delay, base * 2 ** (attempt - 1))
    if retry_after is not None:
        assert wait >= min(retry_after, cap)  # Retry-After is a floor, up to the cap
        assert p.should_retry(err, 0) is (retry_after <= cap)


def test_backoff_grows_exponentially_and_is_capped() -> None:
    # The ceiling doubles per attempt; the max over many draws approaches it.
    p = policy(base_delay_s=1.0, max_delay_s=8.0)
    ceilings = [max(p.backoff(n) for _ in range(400)) for n in range(1, 7)]
    for got, ceiling in zip(ceilings, [1, 2, 4, 8, 8, 8], strict=True):
        assert ceiling * 0.9 <= got <= ceiling


def test_full_jitter_spreads_delays() -> None:
    p = policy(base_delay_s=1.0, max_delay_s=10.0)
    draws = [p.delay(ProviderUnavailableError("x"), 3) for _ in range(200)]
    assert min(draws) < 0.5 < 3.5 < max(draws) <= 4.0


def test_retry_after_over_the_cap_is_not_waited_for() -> None:
    p = policy(max_retry_after_s=30.0)
    assert p.should_retry(RateLimitError("x", retry_after=30.0), 1)
    assert not p.should_retry(RateLimitError("x", retry_after=31.0), 1)
    assert p.delay(RateLimitError("x", retry_after=600.0), 1) == 30.0  # clamped if asked anyway


def test_retry_after_of() -> None:
    assert retry_after_of(RateLimitError("x", retry_after=1.5)) == 1.5
    assert retry_after_of(RateLimitError("x")) is None
    assert retry_after_of(ProviderUnavailableError("x")) is None
    assert retry_after_of(ValueError()) is None


def test_seeded_rng_is_reproducible() -> None:
    a = [RetryPolicy(rng=random.Random(7)).delay(None, n) for n in range(1, 6)]
    b = [RetryPolicy(rng=random.Random(7)).delay(None, n) for n in range(1, 6)]
    assert a == b


def test_from_config_and_validation() -> None:
    cfg = RetryConfig(max_attempts=5, base_delay_s=0.1, max_delay_s=2.0, max_retry_after_s=9.0)
    p = RetryPolicy.from_config(cfg, rng=random.Random(1))
    assert (p.max_attempts, p.base_delay_s, p.max_delay_s, p.max_retry_after_s) == (
        5,
        0.1,
        2.0,
        9.0,
    )
    assert "max_attempts=5" in repr(p)
    with pytest.raises(ValueError):
        RetryPolicy(max_attempts=0)
    with pytest.raises(ValueError):
        RetryPolicy(base_delay_s=-1)


def test_sleepers_are_injectable() -> None:
    slept: list[float] = []
    asleept: list[float] = []

    async def fake_asleep(s: float) -> None:
        asleept.append(s)

    p = RetryPolicy(sleep=slept.append, asleep=fake_asleep)
    p.sleep(1.25)
    p.sleep(0.0)  # nothing to wait for
    asyncio.run(p.asleep(0.5))
    assert slept == [1.25]
    assert asleept == [0.5]

"""The ``limits:`` section: budgets and request or token rates over scopes of calls.

    limits:
      timezone: Europe/Berlin        # calendar windows (day, week, month) start at local midnight
      on_database_error: closed      # closed (refuse calls) or open (let them through, logged)
      unpriced: refuse               # a budget refuses models without a price (or: admit)
      rules:
        - budget: 50/month
          caller: alice
        - requests_per_minute: 60
          model: "openai:*"
        - tokens_per_minute: 200000
          provider: anthropic

Each rule has exactly one of ``budget``, ``requests_per_minute`` and ``tokens_per_minute``, and
any of ``caller``, ``model``, ``provider`` and ``group`` (patterns allowed) as its scope.
"""

from __future__ import annotations

import re
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator, model_validator

from modelwire.config.bounds import MAX_COUNT, MAX_SECONDS, MAX_TOKENS, Strict

__all__ = ["BUDGET_PATTERN", "LimitRuleConfig", "LimitsConfig"]

#: ``AMOUNT/WINDOW`` in USD (a leading ``$`` allowed).
BUDGET_PATTERN = re.compile(r"^\$?(\d{1,9}(?:\.\d{1,9})?)\s*/\s*(hour|day|week|month|total)$")

_Scope = str | None


class LimitRuleConfig(Strict):
    """One limit: a budget or a rate, over the calls its scope names."""

    name: str | None = Field(default=None, min_length=1, max_length=64)
    caller: _Scope = Field(default=None, min_length=1, max_length=255)
    model: _Scope = Field(default=None, min_length=1, max_length=255)
    provider: _Scope = Field(default=None, min_length=1, max_length=255)
    group: _Scope = Field(default=None, min_length=1, max_length=255)
    budget: str | None = None
    requests_per_minute: int | None = Field(default=None, ge=1, le=MAX_COUNT)
    tokens_per_minute: int | None = Field(default=None, ge=1, le=MAX_TOKENS)
    window_s: float = Field(default=60.0, ge=0.001, le=MAX_SECONDS)

    @field_validator("budget")
    @classmethod
    def _budget(cls, value: str | None) -> str | None:
        if value is None:
            return None
        text = value.strip().lower()
        match = BUDGET_PATTERN.match(text)
        if match is None:
            raise ValueError(
                f"budget {value!r}: write AMOUNT/WINDOW in USD, e.g. 50/month "
                "(windows: hour, day, week, month, total)"
            )
        if float(match.group(1)) <= 0:
            raise ValueError(f"budget {value!r}: the amount must be above 0")
        return text

    @model_validator(mode="after")
    def _one_kind(self) -> LimitRuleConfig:
        kinds = [
            k
            for k in ("budget", "requests_per_minute", "tokens_per_minute")
            if getattr(self, k) is not None
        ]
        if len(kinds) != 1:
            raise ValueError(
                "a limit rule needs exactly one of budget, requests_per_minute, "
                f"tokens_per_minute (has {', '.join(kinds) or 'none'})"
            )
        return self


class LimitsConfig(Strict):
    """Budgets and rates, enforced across processes through the ledger's database."""

    timezone: str = "UTC"
    on_database_error: Literal["closed", "open"] = "closed"
    unpriced: Literal["refuse", "admit"] = "refuse"
    rules: list[LimitRuleConfig] = Field(default_factory=list, max_length=10_000)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"timezone {value!r} is not an IANA time zone (e.g. UTC, Europe/Berlin)"
            ) from None
        return value

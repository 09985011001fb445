"""``modelwire.assemble`` builds exactly what the validating constructors build, or declines."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from modelwire import assemble
from modelwire.service.model_service import ModelService
from modelwire.types import ChatRequest, ChatResponse, Usage, normalise_messages


def _same(fast: Any, slow: Any) -> None:
    assert fast == slow
    assert type(fast) is type(slow)
    assert fast.model_fields_set == slow.model_fields_set
    assert fast.model_dump() == slow.model_dump()
    for name in type(slow).model_fields:  # the same Python types, not only equal values
        assert type(getattr(fast, name)) is type(getattr(slow, name)), name
    assert repr(fast) == repr(slow)


@given(
    st.lists(st.integers(0, 10**12), min_size=10, max_size=10),
    st.dictionaries(st.sampled_from(["web_search", "code_execution"]), st.integers(0, 99)),
)
def test_usage(counts: list[int], uses: dict[str, int]) -> None:
    names = [n for n in Usage.model_fields if n not in ("tool_uses", "iterations")]
    core, extra = counts[:5], dict(zip(names[5:], counts[5:], strict=True))
    slow = Usage(**dict(zip(names, counts, strict=True)), tool_uses=uses, iterations=())
    _same(assemble.usage(*core, **extra, tool_uses=uses), slow)
    parts = (Usage(input_tokens=counts[0]), Usage(output_tokens=counts[1]))
    _same(
        assemble.usage(*core, **extra, tool_uses=uses, iterations=parts),
        Usage(**dict(zip(names, counts, strict=True)), tool_uses=uses, iterations=parts),
    )
    plain = Usage(**dict(zip(names[:5], core, strict=True)))
    fast = assemble.usage(*core)
    assert fast == plain and fast.model_dump() == plain.model_dump() and repr(fast) == repr(plain)


def test_usage_that_is_not_all_ints_is_validated() -> None:
    with pytest.raises(ValidationError):
        assemble.usage(1, "many", 0, 0, 0)  # type: ignore[arg-type]


def test_response() -> None:
    usage = Usage(input_tokens=3, output_tokens=4)
    raw = {"id": "x"}
    slow = ChatResponse(
        text="hi", model_id="p:m", usage=usage, finish_reason="stop", request_id="r", raw=raw
    )
    _same(assemble.response("hi", "p:m", usage, "stop", "r", raw), slow)
    none = ChatResponse(
        text="", model_id="p:m", usage=usage, finish_reason=None, request_id=None, raw=None
    )
    _same(assemble.response("", "p:m", usage, None, None, None), none)
    odd = assemble.response("hi", "p:m", usage, 7, 12, raw)  # a server sending numbers
    assert (odd.finish_reason, odd.request_id) == ("7", "12")
    with pytest.raises(ValidationError):
        assemble.response(5, "p:m", usage, None, None, None)  # type: ignore[arg-type]


def test_response_settles_like_a_validated_one() -> None:
    usage = Usage(input_tokens=1)
    fast = assemble.response("a", "p:m", usage, "stop", None, None)
    slow = ChatResponse(
        text="a", model_id="p:m", usage=usage, finish_reason="stop", request_id=None, raw=None
    )
    for response in (fast, slow):
        response.latency_ms = 1.5
        response.attempts = 2
    _same(fast, slow)


values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 3),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.0, 0.5, 1.0, 2.0, -0.0]),
    st.text(max_size=5),
    st.lists(st.text(max_size=3), max_size=2),
)
keys = st.sampled_from(
    ["max_tokens", "temperature", "top_p", "seed", "timeout", "system", "stop", "provider_params"]
)


def _validated(prompt: str, params: dict[str, Any]) -> ChatRequest:
    """What ``build_request`` built before ``plain_request`` existed."""
    if not params:
        return ChatRequest(messages=normalise_messages(prompt))
    fields = {k: v for k, v in params.items() if v is not None}
    return ChatRequest(messages=normalise_messages(prompt), provider_params={}, **fields)


@given(st.text(max_size=20), st.dictionaries(keys, values, max_size=4))
def test_plain_request_matches_the_validator_or_declines(
    prompt: str, params: dict[str, Any]
) -> None:
    fast = assemble.plain_request(prompt, params)
    if fast is None:
        return  # build_request validates it instead
    assert not {"stop", "provider_params"} & {k for k, v in params.items() if v is not None}
    _same(fast, _validated(prompt, params))
    _same(fast.messages[0], _validated(prompt, params).messages[0])


def test_build_request_uses_it_and_still_refuses_bad_input() -> None:
    request = ModelService.build_request("hi", {"max_tokens": 64, "temperature": 0.2})
    _same(request, _validated("hi", {"max_tokens": 64, "temperature": 0.2}))
    _same(ModelService.build_request("hi", {}), _validated("hi", {}))
    # converted by the validator, as before: an int temperature becomes a float
    assert ModelService.build_request("hi", {"temperature": 1}).temperature == 1.0
    with pytest.raises(
        ValueError, match=r"^max_tokens: Input should be greater than or equal to 1$"
    ):
        ModelService.build_request("hi", {"max_tokens": 0})
    with pytest.raises(ValueError, match=r"^top_p: "):
        ModelService.build_request("hi", {"top_p": 1.5})
    for name, value in (("timeout", 1e300), ("temperature", float("nan")), ("max_tokens", 10**12)):
        with pytest.raises(ValueError, match=rf"^{name}: "):
            ModelService.build_request("hi", {name: value})
    with pytest.raises(TypeError, match="unexpected parameter"):
        ModelService.build_request("hi", {"max_token": 5})

"""Bad arguments to the API are one-line TypeError/ValueError naming the parameter, before any
request is sent."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from modelwire.config.schema import Config
from modelwire.registry import ModelRegistry
from modelwire.service import ModelService

CASES: list[tuple[dict[str, Any], type[Exception], str]] = [
    ({"prompt": 123}, TypeError, "prompt: expected a string"),
    ({"prompt": [1]}, TypeError, r"prompt\[0\]: expected a string, a Message"),
    ({"prompt": []}, ValueError, "prompt: a request needs at least one message"),
    ({"prompt": [{"role": "robot", "content": "x"}]}, ValueError, "^role: "),
    ({"max_tokens": 0}, ValueError, "^max_tokens: "),
    ({"max_tokens": "many"}, ValueError, "^max_tokens: "),
    ({"temperature": float("nan")}, ValueError, "^temperature: "),
    ({"temperature": 1e300}, ValueError, "^temperature: "),
    ({"timeout": 1e300}, ValueError, "^timeout: "),
    ({"top_p": 2}, ValueError, "^top_p: "),
    ({"seed": 2**70}, ValueError, "^seed: "),
    ({"stop": 5}, ValueError, "^stop: "),
    ({"tool_choice": "nope"}, ValueError, "tool_choice 'nope' names no tool"),
    ({"tools": [42]}, ValueError, "a tool must be a function"),
    ({"max_token": 3}, TypeError, "unexpected parameter.*max_token"),
]


@pytest.fixture(scope="module")
def service() -> ModelService:
    config = Config.model_validate({"providers": {"mock": {"type": "mock"}}})
    return ModelService(ModelRegistry.from_config(config, catalog=False))


@pytest.mark.parametrize(("kwargs", "error", "match"), CASES)
@pytest.mark.parametrize("style", ["invoke", "ainvoke", "stream", "batch"])
def test_bad_arguments_are_one_line_errors(
    service: ModelService, style: str, kwargs: dict[str, Any], error: type[Exception], match: str
) -> None:
    params = dict(kwargs)
    prompt = params.pop("prompt", "hi")
    with pytest.raises(error, match=match) as info:
        if style == "invoke":
            service.invoke_model("mock:x", prompt, **params)
        elif style == "ainvoke":
            asyncio.run(service.ainvoke_model("mock:x", prompt, **params))
        elif style == "stream":
            list(service.stream_model("mock:x", prompt, **params))
        else:
            (result,) = service.invoke_batch("mock:x", [prompt], **params)
            raise result.error  # type: ignore[misc]
    assert "\n" not in str(info.value)

"""OpenAI provider end to end: the real ``openai`` SDK, through modelwire, against the fake server."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any

import pytest

from modelwire import errors
from modelwire.types import ChatRequest, StreamEvent, Usage
from tools.fake_provider import FakeProviderServer

MakeModel = Callable[..., Any]


def _req(prompt: str = "hello there world", **kw: Any) -> ChatRequest:
    return ChatRequest.build(prompt, **kw)


def test_invoke(fake_server: FakeProviderServer, openai_model: MakeModel) -> None:
    model = openai_model("gpt-4o-mini")
    resp = model.invoke(_req(system="be brief", max_tokens=20, temperature=0))
    assert resp.text == "echo: hello there world"
    assert resp.model_id == "openai:gpt-4o-mini"
    assert resp.usage == Usage(input_tokens=5, output_tokens=5)
    assert resp.finish_reason == "stop"
    assert resp.request_id is not None and resp.request_id.startswith("req_fake_")
    assert resp.cost_usd is None  # the service prices; the provider never does
    (seen,) = fake_server.requests
    assert seen.headers["authorization"] == "Bearer sk-test"
    assert seen.body["messages"][0] == {"role": "system", "content": "be brief"}
    assert seen.body["max_tokens"] == 20 and seen.body["temperature"] == 0


def test_ainvoke(openai_model: MakeModel) -> None:
    model = openai_model("gpt-4o-cache")

    async def main() -> list[Any]:
        return await asyncio.gather(*(model.ainvoke(_req(f"q {i} a b c")) for i in range(8)))

    responses = asyncio.run(main())
    assert [r.text for r in responses] == [f"echo: q {i} a b c" for i in range(8)]
    assert all(r.usage.cache_read_tokens == 2 and r.usage.input_tokens == 5 for r in responses)
    # a second event loop gets its own client (the first one's connections died with its loop)
    again = asyncio.run(model.ainvoke(_req("once more")))
    assert again.text == "echo: once more"


def _check_stream(events: list[StreamEvent], text: str) -> StreamEvent:
    *parts, final = events
    assert all(not e.done for e in parts) and final.done
    assert "".join(e.text for e in parts) == text
    assert len(parts) == len(text.split(" "))  # one event per word: really streamed
    return final


def test_stream_reports_usage_from_the_final_chunk(
    fake_server: FakeProviderServer, openai_model: MakeModel
) -> None:
    model = openai_model("o3-mini")
    final = _check_stream(list(model.stream(_req("a b c"))), "echo: a b c")
    assert final.usage == Usage(input_tokens=3, output_tokens=10, reasoning_tokens=5)
    assert final.finish_reason == "stop"
    assert final.model_id == "openai:o3-mini"
    assert final.request_id == "req_fake_1"
    assert fake_server.requests[0].body["stream_options"] == {"include_usage": True}


def test_astream(openai_model: MakeModel) -> None:
    model = openai_model("gpt-4o-mini")

    async def main() -> list[StreamEvent]:
        return [e async for e in model.astream(_req("x y"))]

    final = _check_stream(asyncio.run(main()), "echo: x y")
    assert final.usage == Usage(input_tokens=2, output_tokens=4)


def test_stream_closed_early_releases_the_connection(
    fake_server: FakeProviderServer, openai_model: MakeModel
) -> None:
    model = openai_model()
    events = model.stream(_req("one two three four five"))
    assert next(events).text == "echo:"
    events.close()  # the caller stops reading
    assert model.invoke(_req("next")).text == "echo: next"


def test_list_models_follows_paging_and_keeps_chat_models(
    fake_server: FakeProviderServer, openai_model: MakeModel
) -> None:
    fake_server.page_size = 4
    model = openai_model()
    infos = type(model).list_models(model.provider)
    names = ["gpt-4o", "gpt-4o-mini", "o3-mini", "gpt-5"]
    assert [i.id for i in infos] == [f"openai:{n}" for n in names]
    assert all(i.source == "discovered" and i.cost is None for i in infos)
    assert [i.reasoning for i in infos] == [False, False, True, True]
    pages = fake_server.requests_to("/models")
    assert [r.query.get("after") for r in pages] == [None, "gpt-5", "dall-e-3", "gpt-4o-mini-tts"]


def test_two_entries_with_different_keys_side_by_side(
    fake_server: FakeProviderServer, openai_model: MakeModel
) -> None:
    fake_server.accepted_keys = {"sk-one", "sk-two"}
    one = openai_model(key="sk-one", provider="team_a")
    two = openai_model(key="sk-two", provider="team_b", headers={"x-team": "b"})
    results: list[str] = []

    def call(model: Any, i: int) -> None:
        results.append(model.invoke(_req(f"{model.provider.name} {i}")).text)

    threads = [threading.Thread(target=call, args=(m, i)) for i in range(5) for m in (one, two)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)
    assert len(results) == 10
    for entry in fake_server.requests:
        prompt = entry.body["messages"][0]["content"]
        expected = "Bearer sk-one" if prompt.startswith("team_a") else "Bearer sk-two"
        assert entry.headers["authorization"] == expected
        assert (entry.headers.get("x-team") == "b") == prompt.startswith("team_b")
    assert one.sync_client(one.provider) is not two.sync_client(two.provider)
    assert one.sync_client(one.provider) is one.sync_client(one.provider)


def test_openai_compatible_without_key_sends_a_placeholder(
    fake_server: FakeProviderServer, openai_model: MakeModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-must-not-leak")
    model = openai_model("llama3.1", ptype="openai_compatible", provider="local", key=None)
    assert type(model).open_model_set is True
    assert model.invoke(_req("hi")).model_id == "local:llama3.1"
    assert fake_server.requests[0].headers["authorization"] == "Bearer not-needed"
    assert fake_server.requests[0].body["model"] == "llama3.1"


def test_openai_compatible_needs_a_base_url(openai_model: MakeModel) -> None:
    model = openai_model("llama3.1", ptype="openai_compatible", key=None, base_url=None)
    with pytest.raises(errors.ConfigError, match="base_url"):
        model.invoke(_req())


def test_openai_without_key_names_the_env_var(
    fake_server: FakeProviderServer, openai_model: MakeModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    model = openai_model(key=None)
    with pytest.raises(errors.AuthenticationError, match="OPENAI_API_KEY") as info:
        model.invoke(_req())
    assert info.value.provider == "openai"
    assert fake_server.requests == []
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-env")
    model.invoke(_req())
    assert fake_server.requests[0].headers["authorization"] == "Bearer sk-from-env"


def test_sdk_settings_come_from_the_entry(openai_model: MakeModel) -> None:
    model = openai_model(timeout_s=7.5, headers={"x-proxy": "1"}, max_retries=4)
    client = model.sync_client(model.provider)
    assert client.max_retries == 0  # modelwire's retry policy is the only one
    assert client.timeout == 7.5
    assert client.default_headers["x-proxy"] == "1"
    model.provider.close()
    assert model.sync_client(model.provider) is not client  # closed clients are rebuilt

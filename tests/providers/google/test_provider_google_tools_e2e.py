"""Gemini tools, images and thinking end to end: ``ModelService`` → the real ``google-genai`` SDK →
the loopback fake server, which checks histories as Gemini does (thought signatures, one response
per call, no ids in requests)."""

from __future__ import annotations

import asyncio
import base64
import http.client
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest

import modelwire as mw
from modelwire.content import (
    DocumentPart,
    ImagePart,
    TextPart,
    ThinkingPart,
    ToolCall,
    ToolResultPart,
)
from modelwire.errors import MalformedToolCallError
from modelwire.types import ToolCallDelta
from tools.fake_provider import FakeProviderServer, gemini_format
from tools.fake_provider.gemini_format import function_call, signature, text_part

GEMINI_3 = "google:gemini-3-pro-preview"
GEMINI_2 = "google:gemini-2.5-flash"
MADE_ID = re.compile(r"^call_[0-9a-f]{32}$")
PNG = b"\x89PNG\r\n\x1a\n" + bytes(12)
PDF = b"%PDF-1.4\n%fake\n"


def get_weather(city: str) -> str:
    """The weather in a city.

    Args:
        city: the city's name
    """
    return f"sunny in {city}"


Service = tuple[mw.ModelService, mw.InMemoryUsageSink]


@pytest.fixture
def server(fake_server: FakeProviderServer) -> FakeProviderServer:
    """A server of this test's own: a scripted answer is taken by the next request, which must
    be this test's (not a late one of an earlier test on a shared server)."""
    return fake_server


@pytest.fixture
def service(server: FakeProviderServer) -> Iterator[Service]:
    cfg = mw.Config(
        providers={"google": {"api_key": "AIza-fake", "base_url": server.url, "timeout_s": 5}},
        retry={"base_delay_s": 0.0, "max_delay_s": 0.01},
    )
    registry = mw.ModelRegistry.from_config(cfg)
    sink = mw.InMemoryUsageSink()
    try:
        yield mw.ModelService(registry, ledger=sink, caller="tests"), sink
    finally:
        registry.close()


def _bodies(server: FakeProviderServer) -> list[dict[str, Any]]:
    return [r.body for r in server.requests if r.path.lower().endswith("generatecontent")]


def _results(resp: mw.ChatResponse | mw.StreamEvent) -> mw.Message:
    return mw.Message(
        role="tool",
        content=tuple(
            ToolResultPart(call_id=c.id, content=get_weather(**c.arguments))
            for c in resp.tool_calls
        ),
    )


# -- the four call styles -----------------------------------------------------------------------


@pytest.mark.parametrize("model", [GEMINI_3, GEMINI_2])
def test_invoke_calls_a_python_tool_and_the_next_turn_answers(
    server: FakeProviderServer, service: Service, model: str
) -> None:
    svc, sink = service
    question = mw.Message(role="user", content="Paris")
    resp = svc.invoke_model(model, question, tools=[get_weather])
    assert resp.finish_reason == "tool_calls" and resp.text == ""
    (call,) = resp.tool_calls
    assert (call.name, call.arguments) == ("get_weather", {"city": "Paris"})
    assert MADE_ID.match(call.id)
    final = svc.invoke_model(model, [question, resp.message, _results(resp)], tools=[get_weather])
    assert final.text == 'echo: get_weather -> {"output": "sunny in Paris"}'
    assert final.finish_reason == "stop" and final.tool_calls == ()
    first, second = _bodies(server)
    sent_call = second["contents"][1]["parts"][0]
    assert sent_call["functionCall"] == {"name": "get_weather", "args": {"city": "Paris"}}
    if model == GEMINI_3:  # the fake signed the call and checked the signature came back
        issued = resp.tool_calls[0].provider_state["google"]["thought_signature"]
        assert "thoughtSignature" not in first["contents"][0]["parts"][0]
        assert sent_call["thoughtSignature"] == issued
        assert base64.b64decode(issued).startswith(gemini_format.SIGNATURE_PREFIX)
    else:
        assert "thoughtSignature" not in sent_call
    assert second["contents"][2]["parts"] == [
        {"functionResponse": {"name": "get_weather", "response": {"output": "sunny in Paris"}}}
    ]
    assert [e.status for e in sink.events] == ["ok", "ok"]


def test_ainvoke_calls_a_tool_and_answers(service: Service) -> None:
    svc, _ = service

    async def conversation() -> tuple[mw.ChatResponse, mw.ChatResponse]:
        first = await svc.ainvoke_model(GEMINI_3, "Oslo", tools=[get_weather])
        history = [mw.Message(role="user", content="Oslo"), first.message, _results(first)]
        return first, await svc.ainvoke_model(GEMINI_3, history, tools=[get_weather])

    first, final = asyncio.run(conversation())
    assert first.tool_calls[0].arguments == {"city": "Oslo"}
    assert final.text == 'echo: get_weather -> {"output": "sunny in Oslo"}'


def test_stream_gives_one_delta_per_call_and_the_last_event_the_calls(
    server: FakeProviderServer, service: Service
) -> None:
    svc, sink = service
    events = list(svc.stream_model(GEMINI_3, "Lima", tools=[get_weather]))
    deltas = [e.tool_call_delta for e in events if e.tool_call_delta is not None]
    last = events[-1]
    assert last.done and last.finish_reason == "tool_calls"
    (call,) = last.tool_calls
    assert deltas == [
        ToolCallDelta(index=0, id=call.id, name="get_weather", arguments_delta=call.arguments_json)
    ]
    message = last.message
    assert message is not None and message.tool_calls == last.tool_calls
    history = [mw.Message(role="user", content="Lima"), message, _results(last)]
    final = list(svc.stream_model(GEMINI_3, history, tools=[get_weather]))
    assert "".join(e.text for e in final) == 'echo: get_weather -> {"output": "sunny in Lima"}'
    assert final[-1].finish_reason == "stop"
    assert [(e.stream, e.status) for e in sink.events] == [(True, "ok"), (True, "ok")]
    assert server.requests[-1].query == {"alt": "sse"}


def test_astream_gives_the_calls_too(service: Service) -> None:
    svc, _ = service

    async def collect() -> list[mw.StreamEvent]:
        return [e async for e in svc.astream_model(GEMINI_2, "Quito", tools=[get_weather])]

    events = asyncio.run(collect())
    assert [d.tool_call_delta.name for d in events if d.tool_call_delta] == ["get_weather"]
    assert events[-1].tool_calls[0].arguments == {"city": "Quito"}


# -- what Gemini sends --------------------------------------------------------------------------


def test_parallel_calls_stay_separate_and_results_go_back_in_call_order(
    server: FakeProviderServer, service: Service
) -> None:
    svc, _ = service
    server.script(
        "gemini",
        {
            "parts": [
                text_part("Two cities.", thought=True),
                function_call("get_weather", {"city": "Paris"}, thought_signature=signature(1)),
                function_call("get_weather", {"city": "Rome"}),
                function_call("get_time", id="fc-gemini-7"),
            ]
        },
    )
    resp = svc.invoke_model(GEMINI_3, "Paris and Rome", tools=[get_weather])
    paris, rome, clock = resp.tool_calls
    assert [c.arguments for c in resp.tool_calls] == [{"city": "Paris"}, {"city": "Rome"}, {}]
    assert MADE_ID.match(paris.id) and MADE_ID.match(rome.id) and paris.id != rome.id
    assert clock.id == "fc-gemini-7"  # Gemini's own id is kept
    assert isinstance(resp.parts[0], ThinkingPart)
    results = [
        mw.Message(role="tool", content=(ToolResultPart(call_id=clock.id, content="noon"),)),
        mw.Message(role="tool", content=(ToolResultPart(call_id=rome.id, content="rain"),)),
        mw.Message(role="tool", content=(ToolResultPart(call_id=paris.id, content="sun"),)),
    ]
    history = [mw.Message(role="user", content="Paris and Rome"), resp.message, *results]
    final = svc.invoke_model(GEMINI_3, history, tools=[get_weather])
    assert final.text == (
        'echo: get_weather -> {"output": "sun"} get_weather -> {"output": "rain"} '
        'get_time -> {"output": "noon"}'
    )
    sent = _bodies(server)[-1]["contents"]
    assert [p.get("thought") for p in sent[1]["parts"]] == [True, None, None, None]
    assert [p["functionResponse"]["name"] for p in sent[2]["parts"]] == [
        "get_weather",
        "get_weather",
        "get_time",
    ]


def test_a_malformed_call_raises_and_is_recorded_once(
    server: FakeProviderServer, service: Service
) -> None:
    svc, sink = service
    malformed = {
        "parts": [],
        "finishReason": "MALFORMED_FUNCTION_CALL",
        "finishMessage": "Malformed function call: get_weather(city=Paris",
    }
    server.script("gemini", malformed, malformed)
    with pytest.raises(MalformedToolCallError) as caught:
        svc.invoke_model(GEMINI_2, "Paris", tools=[get_weather])
    assert caught.value.model_id == GEMINI_2 and not caught.value.retryable
    with pytest.raises(MalformedToolCallError):
        list(svc.stream_model(GEMINI_2, "Paris", tools=[get_weather]))
    assert len(_bodies(server)) == 2  # never retried
    assert [(e.status, e.error_type) for e in sink.events] == [
        ("error", "MalformedToolCallError"),
        ("error", "MalformedToolCallError"),
    ]


def test_a_stream_cut_between_two_calls_records_its_attempt(
    server: FakeProviderServer, service: Service
) -> None:
    svc, sink = service
    calls = [function_call("get_weather", {"city": c}) for c in ("Bern", "Graz")]
    server.script("gemini", {"parts": calls})
    server.faults.push(cut_stream_after=1)
    seen: list[mw.StreamEvent] = []
    with pytest.raises(mw.ProviderUnavailableError, match="cut off"):
        for event in svc.stream_model(GEMINI_2, "two", tools=[get_weather]):
            seen.append(event)
    assert [e.tool_call_delta.arguments_delta for e in seen if e.tool_call_delta] == [
        '{"city": "Bern"}'
    ]
    (event,) = sink.events  # a delta reached the caller: not retried
    assert (event.stream, event.status, event.error_type) == (
        True,
        "error",
        "ProviderUnavailableError",
    )
    assert len(_bodies(server)) == 1


# -- images, choices, histories -----------------------------------------------------------------


def test_images_and_documents_reach_gemini_in_its_shape(
    server: FakeProviderServer, service: Service
) -> None:
    svc, _ = service
    message = mw.Message(
        role="user",
        content=(
            TextPart(text="what is this"),
            ImagePart(data=PNG),
            ImagePart(url="https://example.com/cat.gif"),
            DocumentPart(data=PDF, name="x.pdf"),
        ),
    )
    resp = svc.invoke_model(GEMINI_3, message)
    assert resp.text == "echo: what is this"
    (parts,) = [c["parts"] for c in _bodies(server)[-1]["contents"]]
    assert parts == [
        {"text": "what is this"},
        {"inlineData": {"data": base64.b64encode(PNG).decode(), "mime_type": "image/png"}},
        {"fileData": {"file_uri": "https://example.com/cat.gif", "mime_type": "image/gif"}},
        {"inlineData": {"data": base64.b64encode(PDF).decode(), "mime_type": "application/pdf"}},
    ]


@pytest.mark.parametrize("model", [GEMINI_3, GEMINI_2])
def test_images_in_tool_results_are_taken(
    server: FakeProviderServer, service: Service, model: str
) -> None:
    svc, _ = service
    first = svc.invoke_model(model, "Paris", tools=[get_weather])
    result = ToolResultPart(
        call_id=first.tool_calls[0].id, content=(TextPart(text="a map"), ImagePart(data=PNG))
    )
    history = [
        mw.Message(role="user", content="Paris"),
        first.message,
        mw.Message(role="tool", content=(result,)),
    ]
    final = svc.invoke_model(model, history, tools=[get_weather])
    assert final.text == 'echo: get_weather -> {"output": "a map"}'
    parts = _bodies(server)[-1]["contents"][2]["parts"]
    image = {"data": base64.b64encode(PNG).decode(), "mime_type": "image/png"}
    if model == GEMINI_3:
        assert parts[0]["functionResponse"]["parts"] == [{"inline_data": image}]
    else:
        assert parts[1] == {"inlineData": image}


def test_tool_choice_none_and_a_named_tool(server: FakeProviderServer, service: Service) -> None:
    svc, _ = service

    def get_time() -> str:
        """The time now."""
        return "noon"

    plain = svc.invoke_model(GEMINI_3, "hello", tools=[get_weather, get_time], tool_choice="none")
    assert plain.text == "echo: hello" and plain.tool_calls == ()
    named = svc.invoke_model(
        GEMINI_3, "hello", tools=[get_weather, get_time], tool_choice="get_time"
    )
    assert [c.name for c in named.tool_calls] == ["get_time"]
    assert _bodies(server)[-1]["toolConfig"] == {
        "functionCallingConfig": {"allowedFunctionNames": ["get_time"], "mode": "ANY"}
    }


@pytest.mark.parametrize("model", [GEMINI_3, GEMINI_2])
def test_a_history_from_another_vendor_replays(
    server: FakeProviderServer, service: Service, model: str
) -> None:
    """Another vendor's ids, thinking and state, no signatures, results without names: Gemini 3
    would refuse the unsigned call of the current turn without the documented skip value."""
    svc, _ = service
    history = [
        mw.Message(role="user", content="Weather in Kyiv?"),
        mw.Message(
            role="assistant",
            content=(
                ThinkingPart(text="use the tool", signature="EpYBCkQY", provider="anthropic"),
                ToolCall(
                    id="toolu_01XfW3",
                    name="get_weather",
                    arguments={"city": "Kyiv"},
                    provider_state={"anthropic": {"x": 1}},
                ),
            ),
        ),
        mw.Message(role="tool", content=(ToolResultPart(call_id="toolu_01XfW3", content="snow"),)),
    ]
    final = svc.invoke_model(model, history, tools=[get_weather])
    assert final.text == 'echo: get_weather -> {"output": "snow"}'
    sent = _bodies(server)[-1]["contents"]
    assert len(sent[1]["parts"]) == 1  # the other vendor's thinking is dropped
    expected = None if model == GEMINI_2 else "skip_thought_signature_validator"
    assert sent[1]["parts"][0].get("thoughtSignature") == expected


def test_a_mangled_signature_is_refused_by_the_fake_as_by_gemini(service: Service) -> None:
    svc, _ = service
    call = ToolCall(
        id="c1",
        name="get_weather",
        arguments={"city": "Lund"},
        provider_state={"google": {"thought_signature": base64.b64encode(b"forged").decode()}},
    )
    history = [
        mw.Message(role="user", content="Lund"),
        mw.Message(role="assistant", content=(call,)),
        mw.Message(role="tool", content=(ToolResultPart(call_id="c1", content="fog"),)),
    ]
    with pytest.raises(mw.InvalidRequestError, match="Corrupted thought signature"):
        svc.invoke_model(GEMINI_3, history, tools=[get_weather])


# -- the fake's checks, on the raw wire ---------------------------------------------------------


def _post(server: FakeProviderServer, model: str, body: dict[str, Any]) -> tuple[int, Any]:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    try:
        conn.request(
            "POST",
            f"/v1beta/models/{model}:generateContent",
            body=json.dumps(body),
            headers={"content-type": "application/json"},
        )
        resp = conn.getresponse()
        return resp.status, json.loads(resp.read())
    finally:
        conn.close()


def _turn(call: dict[str, Any], responses: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "contents": [
            {"role": "user", "parts": [{"text": "q"}]},
            {"role": "model", "parts": [call]},
            {"role": "user", "parts": responses},
        ]
    }


@pytest.mark.parametrize(
    ("model", "call", "responses", "message"),
    [
        (
            "gemini-3-pro-preview",
            {"functionCall": {"name": "f", "args": {}}},
            [{"functionResponse": {"name": "f", "response": {}}}],
            "missing a thought_signature",
        ),
        (
            "gemini-2.5-flash",
            {"functionCall": {"id": "x", "name": "f", "args": {}}},
            [{"functionResponse": {"name": "f", "response": {}}}],
            'Unknown name "id"',
        ),
        (
            "gemini-2.5-flash",
            {"functionCall": {"name": "f", "args": {}}},
            [{"functionResponse": {"response": {}}}],
            "Name cannot be empty",
        ),
        (
            "gemini-2.5-flash",
            {"functionCall": {"name": "f", "args": {}}},
            [
                {"functionResponse": {"name": "f", "response": {}}},
                {"functionResponse": {"name": "f", "response": {}}},
            ],
            "number of function response parts",
        ),
    ],
)
def test_the_fake_refuses_what_gemini_refuses(
    server: FakeProviderServer,
    model: str,
    call: dict[str, Any],
    responses: list[dict[str, Any]],
    message: str,
) -> None:
    status, body = _post(server, model, _turn(call, responses))
    assert status == 400 and message in body["error"]["message"]
    good = {"functionCall": {"name": "f", "args": {}}, "thoughtSignature": signature(3)}
    fine = [{"functionResponse": {"name": "f", "response": {"output": "x"}}}]
    status, body = _post(server, model, _turn(good, fine))
    assert status == 200 and body["candidates"][0]["finishReason"] == "STOP"

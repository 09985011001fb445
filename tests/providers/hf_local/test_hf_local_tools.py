"""huggingface_local and tools: rendered through the chat template when it takes them, refused
before generation when it does not; images and documents refused; tool calls read out of the
model's text (whole or streamed) in the formats ``hf_local.tool_calls`` documents."""

from __future__ import annotations

import asyncio
import itertools
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from modelwire.content import DocumentPart, ImagePart, TextPart, ToolCall, ToolResultPart
from modelwire.errors import InvalidRequestError, MalformedToolCallError, UnsupportedFeatureError
from modelwire.providers.hf_local.architecture import ModelArchitecture
from modelwire.providers.hf_local.prompts import (
    build_prompt,
    chat_messages,
    template_supports_tools,
    template_tools,
    uses_tools,
    wire_id,
)
from modelwire.providers.hf_local.tool_calls import ToolCallScanner, parse_tool_calls
from modelwire.tools import as_tools
from modelwire.types import ChatRequest, Message, StreamEvent

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16

#: A tiny template that renders tools, calls and results (the shapes ``transformers`` documents).
TOOL_TEMPLATE = (
    "{% if tools %}<s> system : tools "
    "{% for t in tools %}{{ t['function'] | tojson }} {% endfor %}{% endif %}"
    "{% for m in messages %}<s> {{ m['role'] }} : "
    "{% if m['role'] == 'tool' %}{{ m['name'] }} {{ m['tool_call_id'] }} {% endif %}"
    "{{ m['content'] }}"
    "{% if m['tool_calls'] is defined %}{% for c in m['tool_calls'] %} <tool_call> "
    "{{ {'name': c['function']['name'], 'arguments': c['function']['arguments']} | tojson }} "
    "</tool_call>{% endfor %}{% endif %} {% endfor %}"
    "{% if add_generation_prompt %}<s> assistant :{% endif %}"
)


def get_weather(city: str, unit: str = "celsius") -> str:
    """The weather in a city."""
    return f"sunny in {city}"


def get_time(zone: str) -> str:
    """The time in a zone."""
    return "12:00"


TOOLS = as_tools([get_weather, get_time])
NAMES = [t.name for t in TOOLS]


def counter_ids() -> Any:
    numbers = itertools.count()
    return lambda: f"call_{next(numbers)}"


def parse(text: str, **kw: Any) -> tuple[str, tuple[ToolCall, ...]]:
    return parse_tool_calls(text, NAMES, new_id=counter_ids(), **kw)


def calls_of(found: tuple[ToolCall, ...]) -> list[tuple[str, dict[str, Any]]]:
    return [(c.name, dict(c.arguments)) for c in found]


# -- reading calls out of text -------------------------------------------------------------------


def test_tagged_calls_are_read_and_taken_out_of_the_text() -> None:
    text, found = parse(
        'Let me look.\n<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n'
        '</tool_call>\n<tool_call>{"name": "get_time", "arguments": "{\\"zone\\": \\"UTC\\"}"}'
        "</tool_call>"
    )
    assert text == "Let me look."
    assert calls_of(found) == [("get_weather", {"city": "Paris"}), ("get_time", {"zone": "UTC"})]
    assert [c.id for c in found] == ["call_0", "call_1"]
    assert json.loads(found[0].arguments_json) == {"city": "Paris"}


def test_tagged_variants() -> None:
    listed = '<tool_call>[{"name": "a", "arguments": {}}, {"name": "b"}]</tool_call>'
    assert calls_of(parse(listed)[1]) == [("a", {}), ("b", {})]
    spelled = '<tool_call>{"name": "get_time", "parameters": {"zone": "CET"}}</tool_call>'
    assert calls_of(parse(spelled)[1]) == [("get_time", {"zone": "CET"})]
    unclosed = 'ok <tool_call>{"name": "get_time", "arguments": {"zone": "X"}}</tool_'
    assert parse(unclosed) == ("ok", parse(unclosed)[1]) and len(parse(unclosed)[1]) == 1
    between = 'a <tool_call>{"name": "x"}</tool_call> b'
    assert parse(between)[0] == "a  b"  # the text around a call, as written


@pytest.mark.parametrize(
    "raw",
    [
        '<tool_call>{"name": "get_weather", "arguments": {"city": </tool_call>',
        '<tool_call>{"name": "get_weather", "arguments": [1, 2]}</tool_call>',
        '<tool_call>{"arguments": {}}</tool_call>',
        '<tool_call>"get_weather"</tool_call>',
        "<tool_call>[]</tool_call>",
        '<tool_call>{"name": "get_weather", "arguments": "{oops"}</tool_call>',
        'text <tool_call>{"name": "get_weather", "argu',
    ],
)
def test_a_malformed_tagged_call_raises_with_the_raw_text(raw: str) -> None:
    with pytest.raises(MalformedToolCallError) as info:
        parse(raw)
    body = raw.split("<tool_call>", 1)[1].removesuffix("</tool_call>").strip()
    assert info.value.raw_text == body


def test_bare_json_calls_to_the_requests_tools() -> None:
    single = ' {"name": "get_weather", "parameters": {"city": "Oslo"}}\n'
    assert parse(single) == ("", parse(single)[1])
    assert calls_of(parse(single)[1]) == [("get_weather", {"city": "Oslo"})]
    listed = '[TOOL_CALLS] [{"name": "get_time", "arguments": {"zone": "UTC"}}]'
    assert calls_of(parse(listed)[1]) == [("get_time", {"zone": "UTC"})]


@pytest.mark.parametrize(
    "answer",
    [
        '{"name": "unknown_tool", "arguments": {}}',
        '{"name": "get_weather"}',
        '{"city": "Paris"}',
        "[1, 2, 3]",
        '{"name": "get_weather", "arguments": {}} and more',
        "  plain words\n\n",
        "",
        "a < b <tool",
    ],
)
def test_other_answers_stay_text_unchanged(answer: str) -> None:
    assert parse(answer) == (answer, ())


def test_only_the_first_call_is_kept_when_parallel_calls_are_off() -> None:
    two = '<tool_call>{"name": "a"}</tool_call><tool_call>{"name": "b"}</tool_call>'
    assert calls_of(parse(two, max_calls=1)[1]) == [("a", {})]


_fragments = st.one_of(
    st.text(st.sampled_from("ab <>/{}[]\n_"), max_size=6),
    st.sampled_from(["<tool_call>", "</tool_call>", "<tool", "_call>", " ", "\n"]),
    st.builds(
        lambda name, city: (
            "<tool_call>" + json.dumps({"name": name, "arguments": {"city": city}}) + "</tool_call>"
        ),
        st.sampled_from(NAMES),
        st.text("xyz {}", max_size=4),
    ),
)


@st.composite
def _split(draw: st.DrawFn) -> tuple[str, list[str]]:
    text = "".join(draw(st.lists(_fragments, max_size=8)))
    cuts = sorted(draw(st.lists(st.integers(0, len(text)), max_size=6)))
    bounds = [0, *cuts, len(text)]
    return text, [text[a:b] for a, b in itertools.pairwise(bounds)]


def _outcome(run: Any) -> Any:
    try:
        return run()
    except MalformedToolCallError as exc:
        return ("malformed", exc.raw_text)


@settings(max_examples=300, deadline=None)
@given(_split())
def test_a_stream_reads_the_same_calls_and_text_however_it_is_cut(
    case: tuple[str, list[str]],
) -> None:
    text, pieces = case

    def whole() -> Any:
        shown, found = parse(text)
        return shown, calls_of(found)

    def streamed() -> Any:
        scanner = ToolCallScanner(NAMES, new_id=counter_ids())
        shown = "".join(scanner.feed(p) for p in pieces) + scanner.finish()
        deltas = [(d.index, d.name, json.loads(d.arguments_delta)) for d in scanner.deltas]
        assert deltas == [(i, c.name, dict(c.arguments)) for i, c in enumerate(scanner.calls)]
        return shown, calls_of(tuple(scanner.calls))

    assert _outcome(streamed) == _outcome(whole)
    if "<tool" not in text and not text.lstrip().startswith(("{", "[")):
        assert whole() == (text, [])


# -- prompts ---------------------------------------------------------------------------------------


@given(st.text(min_size=1, max_size=40))
def test_wire_ids_are_nine_letters_and_digits_and_stable(call_id: str) -> None:
    mapped = wire_id(call_id)
    assert len(mapped) == 9 and mapped.isascii() and mapped.isalnum()
    assert wire_id(call_id) == mapped and wire_id(mapped) == mapped


def test_wire_ids_keep_ids_that_fit_and_tell_others_apart() -> None:
    assert wire_id("abcDEF123") == "abcDEF123"
    assert len({wire_id(f"call_{i}") for i in range(1000)}) == 1000


def _conversation(error: bool = False) -> list[Message]:
    call = ToolCall(id="call_abc", name="get_weather", arguments={"city": "Paris"})
    return [
        Message(role="user", content="weather?"),
        Message(role="assistant", content=(TextPart(text="Checking."), call)),
        Message(
            role="tool",
            content=(ToolResultPart(call_id="call_abc", content="sunny", is_error=error),),
        ),
    ]


def test_chat_messages_of_a_tool_conversation() -> None:
    request = ChatRequest.build(_conversation(error=True), system="be brief", tools=TOOLS)
    assert chat_messages(request) == [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": "weather?"},
        {
            "role": "assistant",
            "content": "Checking.",
            "tool_calls": [
                {
                    "id": wire_id("call_abc"),
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": {"city": "Paris"}},
                }
            ],
        },
        {
            "role": "tool",
            "name": "get_weather",
            "tool_call_id": wire_id("call_abc"),
            "content": "Error: sunny",
        },
    ]


def test_template_tools_follow_the_tool_choice() -> None:
    def names(choice: str | None) -> list[str]:
        request = ChatRequest.build("hi", tools=TOOLS, tool_choice=choice)
        return [t["function"]["name"] for t in template_tools(request)]

    assert names(None) == names("auto") == names("required") == NAMES
    assert names("get_time") == ["get_time"] and names("none") == []
    [first] = template_tools(ChatRequest.build("hi", tools=TOOLS[:1]))
    assert first == {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "The weather in a city.",
            "parameters": dict(TOOLS[0].parameters),
        },
    }


def test_which_requests_need_a_tool_template() -> None:
    assert uses_tools(ChatRequest.build("hi", tools=TOOLS))
    assert not uses_tools(ChatRequest.build("hi", tools=TOOLS, tool_choice="none"))
    assert uses_tools(ChatRequest.build(_conversation(), tool_choice="none", tools=TOOLS))
    assert not uses_tools(ChatRequest.build("hi"))


# -- tiny checkpoints ----------------------------------------------------------------------------

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # nothing may reach the Hub


@pytest.fixture(scope="module")
def hf() -> Any:
    torch = pytest.importorskip("torch")
    pytest.importorskip("transformers")
    pytest.importorskip("tokenizers")
    torch.set_num_threads(1)
    from modelwire.providers.hf_local import engine

    return engine


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory, hf: Any) -> Path:
    from tests.support.hf_tiny_models import build_gpt2, build_t5

    root = tmp_path_factory.mktemp("hf_tool_models")
    _build_long_gpt2(root / "tool-gpt2", TOOL_TEMPLATE)
    build_gpt2(root / "chat-gpt2")  # a chat template that ignores tools
    build_gpt2(root / "plain-gpt2", chat_template=None)
    build_t5(root / "tiny-t5")
    return root


def _build_long_gpt2(path: Path, chat_template: str) -> None:
    """The tiny GPT-2 of ``tests.support.hf_tiny_models`` with room for tool definitions (a
    512-token context)."""
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel

    from tests.support.hf_tiny_models import make_tokenizer

    tok = make_tokenizer(chat_template)
    torch.manual_seed(0)
    config = GPT2Config(
        vocab_size=len(tok),
        n_positions=512,
        n_embd=32,
        n_layer=2,
        n_head=2,
        bos_token_id=tok.bos_token_id,
        eos_token_id=tok.eos_token_id,
        pad_token_id=tok.pad_token_id,
    )
    GPT2LMHeadModel(config).save_pretrained(path)
    tok.save_pretrained(path)


@pytest.fixture
def service(model_dir: Path) -> Iterator[Any]:
    from modelwire.config.schema import Config
    from modelwire.registry.model_registry import ModelRegistry
    from modelwire.service.model_service import ModelService

    cfg = Config.model_validate(
        {
            "providers": {
                "hf": {
                    "type": "huggingface_local",
                    "model_dir": str(model_dir),
                    "local_files_only": True,
                }
            }
        }
    )
    svc = ModelService(ModelRegistry.from_config(cfg, catalog=False))
    yield svc
    svc.registry.close()


def test_tokenizer_templates_are_probed_for_tools(hf: Any) -> None:
    from tests.support.hf_tiny_models import CHAT_TEMPLATE, make_tokenizer

    assert template_supports_tools(make_tokenizer(TOOL_TEMPLATE))
    assert not template_supports_tools(make_tokenizer(CHAT_TEMPLATE))
    assert not template_supports_tools(make_tokenizer(None))
    failing = "{% if tools %}{{ raise_exception('no tools here') }}{% endif %}{{ messages }}"
    assert not template_supports_tools(make_tokenizer(failing))


def _all_call_styles(service: Any, model: str, prompt: Any, **params: Any) -> list[Any]:
    async def astream() -> list[StreamEvent]:
        return [e async for e in service.astream_model(model, prompt, **params)]

    return [
        lambda: service.invoke_model(model, prompt, **params),
        lambda: list(service.stream_model(model, prompt, **params)),
        lambda: asyncio.run(service.ainvoke_model(model, prompt, **params)),
        lambda: asyncio.run(astream()),
    ]


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("chat-gpt2", "chat template does not render tools"),
        ("plain-gpt2", "has no chat template"),
        ("tiny-t5", "encoder-decoder models have no chat template"),
    ],
)
def test_tools_without_template_support_are_refused_before_generation(
    service: Any, hf: Any, monkeypatch: pytest.MonkeyPatch, name: str, why: str
) -> None:
    submitted: list[Any] = []

    def submit(self: Any, job: Any) -> None:
        submitted.append(job)
        raise AssertionError("a generation was queued")

    monkeypatch.setattr(hf.Engine, "submit", submit)
    for call in _all_call_styles(service, f"hf:{name}", "hi", tools=[get_weather]):
        with pytest.raises(UnsupportedFeatureError, match=why):
            call()
    history = _conversation()
    with pytest.raises(UnsupportedFeatureError, match=why):
        service.invoke_model(f"hf:{name}", history, tools=[get_weather], tool_choice="none")
    assert submitted == []


def test_tool_choice_none_on_a_template_without_tools_is_a_plain_call(service: Any) -> None:
    resp = service.invoke_model(
        "hf:chat-gpt2", "hello", tools=[get_weather], tool_choice="none", max_tokens=3
    )
    plain = service.invoke_model("hf:chat-gpt2", "hello", max_tokens=3)
    assert resp.usage == plain.usage and resp.tool_calls == ()


@pytest.mark.parametrize(
    ("part", "what"),
    [(ImagePart(data=PNG), "images"), (DocumentPart(url="https://x.test/a.pdf"), "documents")],
)
def test_images_and_documents_are_refused_before_loading(
    service: Any, part: Any, what: str
) -> None:
    prompt = Message(role="user", content=(TextPart(text="look"), part))
    for call in _all_call_styles(service, "hf:tool-gpt2", prompt):
        with pytest.raises(UnsupportedFeatureError, match=f"reads text only.*{what}"):
            call()
    model = service.registry.get_model("hf:tool-gpt2")
    assert not model.handle().loaded


def test_a_result_for_an_unknown_call_is_an_invalid_request(service: Any) -> None:
    history = [
        Message(role="user", content="hi"),
        Message(role="tool", content=(ToolResultPart(call_id="nope", content="x"),)),
    ]
    with pytest.raises(InvalidRequestError, match="'nope'"):
        service.invoke_model("hf:tool-gpt2", history, tools=[get_weather])


def test_tools_and_history_are_rendered_by_a_template_that_takes_them(service: Any) -> None:
    model = service.registry.get_model("hf:tool-gpt2")
    tokenizer = model.engine().loaded.tokenizer
    assert model.engine().loaded.tools_supported
    request = ChatRequest.build(_conversation(error=True), tools=TOOLS, max_tokens=3)
    rendered = build_prompt(tokenizer, ModelArchitecture.DECODER_ONLY, request).text
    assert rendered.startswith(
        "<s> system : tools " + json.dumps(template_tools(request)[0]["function"])
    )
    assert json.dumps(template_tools(request)[1]["function"]) in rendered
    assert '<tool_call> {"name": "get_weather", "arguments": {"city": "Paris"}} </tool_call>' in (
        rendered
    )
    assert f"<s> tool : get_weather {wire_id('call_abc')} Error: sunny" in rendered
    assert rendered.endswith("<s> assistant :")
    resp = service.invoke_model(
        "hf:tool-gpt2", _conversation(error=True), tools=TOOLS, max_tokens=3
    )
    ids = tokenizer(rendered, add_special_tokens=False)["input_ids"]
    assert resp.usage.input_tokens == len(ids)  # the model read the rendered tools
    without = service.invoke_model("hf:tool-gpt2", "weather?", max_tokens=3)
    assert resp.usage.input_tokens > without.usage.input_tokens


# -- the model's calls, through the provider (generation replaced by a scripted text) -----------


@pytest.fixture
def scripted(hf: Any, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The pieces the next generations write (streamed one by one, or joined)."""
    pieces: list[str] = []

    def generate(self: Any, ready: list[tuple[Any, list[int]]]) -> list[Any]:
        results = []
        for job, ids in ready:
            if job.streamer is not None:
                for piece in pieces:
                    job.streamer.text_queue.put(piece)
                job.streamer.text_queue.put(job.streamer.stop_signal)
            results.append(hf.GenerationResult("".join(pieces), len(ids), 7, "stop"))
        return results

    monkeypatch.setattr(hf.Engine, "_generate", generate)
    return pieces


CALLING = [
    "Checking",
    ". <tool",
    '_call>{"name": "get_weather", "argu',
    'ments": {"city": "Paris"}}</tool_call>\n<tool_call>{"name": "get_time", ',
    '"arguments": {"zone": "UTC"}}</tool_call>\n',
]


def test_the_models_calls_come_back_in_every_call_style(service: Any, scripted: list[str]) -> None:
    scripted.extend(CALLING)
    expected = [("get_weather", {"city": "Paris"}), ("get_time", {"zone": "UTC"})]
    resp, events, aresp, aevents = (
        call() for call in _all_call_styles(service, "hf:tool-gpt2", "weather?", tools=TOOLS)
    )
    for answer in (resp, aresp):
        assert calls_of(answer.tool_calls) == expected
        assert answer.text == "Checking." and answer.finish_reason == "tool_calls"
        assert answer.parts == (TextPart(text="Checking."), *answer.tool_calls)
        assert all(c.id.startswith("call_") for c in answer.tool_calls)
        assert len({c.id for c in answer.tool_calls}) == 2
    for stream in (events, aevents):
        last = stream[-1]
        assert calls_of(last.tool_calls) == expected and last.finish_reason == "tool_calls"
        assert "".join(e.text for e in stream) == "Checking."
        deltas = [e.tool_call_delta for e in stream if e.tool_call_delta is not None]
        assert [(d.index, d.id, d.name) for d in deltas] == [
            (i, c.id, c.name) for i, c in enumerate(last.tool_calls)
        ]
        assert last.message.tool_calls == last.tool_calls
    first = resp.tool_calls[0]
    history = [
        Message(role="user", content="weather?"),
        resp.message,
        Message(role="tool", content=(ToolResultPart(call_id=first.id, content="sunny"),)),
    ]
    scripted[:] = ["It is sunny."]
    final = service.invoke_model("hf:tool-gpt2", history, tools=TOOLS)
    assert final.text == "It is sunny." and final.tool_calls == () and final.finish_reason == "stop"


def test_parallel_calls_off_keeps_the_first(service: Any, scripted: list[str]) -> None:
    scripted.extend(CALLING)
    resp = service.invoke_model("hf:tool-gpt2", "w?", tools=TOOLS, parallel_tool_calls=False)
    assert [c.name for c in resp.tool_calls] == ["get_weather"]


def test_without_tools_the_text_is_left_alone(service: Any, scripted: list[str]) -> None:
    scripted.extend(CALLING)
    for resp in (
        service.invoke_model("hf:tool-gpt2", "w?"),
        service.invoke_model("hf:tool-gpt2", "w?", tools=TOOLS, tool_choice="none"),
    ):
        assert resp.text == "".join(CALLING) and resp.tool_calls == ()


def test_a_malformed_call_raises_in_every_call_style(service: Any, scripted: list[str]) -> None:
    scripted.extend(
        ["<tool_call>", '{"name": "get_weather", "arguments": {"city": ', "</tool_call>"]
    )
    for call in _all_call_styles(service, "hf:tool-gpt2", "weather?", tools=TOOLS):
        with pytest.raises(MalformedToolCallError) as info:
            call()
        assert info.value.raw_text == '{"name": "get_weather", "arguments": {"city":'

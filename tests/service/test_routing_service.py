"""Groups through ModelService on the mock provider: sync, async, streams, batch, usage events."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, ClassVar

import pytest

from modelwire.config.schema import Config
from modelwire.errors import AllModelsFailedError, ProviderUnavailableError
from modelwire.providers.factory import ModelFactory
from modelwire.providers.mock import MockChatModel
from modelwire.registry.model_registry import ModelRegistry
from modelwire.routing.group import ModelGroup
from modelwire.routing.tasks import TaskType
from modelwire.service.groups import parse_capabilities, pop_hints
from modelwire.service.model_service import ModelService
from modelwire.types import ChatRequest, StreamEvent
from modelwire.usage.events import InMemoryUsageSink

FAST_RETRY = {"max_attempts": 2, "base_delay_s": 0.0, "max_delay_s": 0.0}


class CutStreamModel(MockChatModel):
    """A mock whose streams break after the first chunk."""

    def stream(self, request: ChatRequest) -> Iterator[StreamEvent]:
        for event in super().stream(request):
            yield event
            raise ProviderUnavailableError("stream cut", model_id=self.info.id)


class RecordingModel(MockChatModel):
    """A mock that keeps every request it receives."""

    seen: ClassVar[list[ChatRequest]] = []

    def invoke(self, request: ChatRequest) -> Any:
        RecordingModel.seen.append(request)
        return super().invoke(request)


@pytest.fixture
def recording_provider() -> Iterator[list[ChatRequest]]:
    RecordingModel.seen = []
    ModelFactory.register_provider("recmock", RecordingModel)
    yield RecordingModel.seen
    ModelFactory.unregister_provider("recmock")


@pytest.fixture
def cut_provider() -> Iterator[None]:
    ModelFactory.register_provider("cutmock", CutStreamModel)
    yield
    ModelFactory.unregister_provider("cutmock")


def make_service(groups: dict[str, Any], **extra_providers: Any) -> tuple[ModelService, Any]:
    cfg = Config.model_validate(
        {
            "providers": {
                "mock": {"type": "mock"},
                "down": {"type": "mock", "error_rate": 1.0, "error_kinds": ["server"]},
                "badkey": {"type": "mock", "error_rate": 1.0, "error_kinds": ["auth"]},
                **extra_providers,
            },
            "models": {
                "mock:cheap": {
                    "cost": {"input_per_mtok": 0.1, "output_per_mtok": 0.2},
                    "capabilities": {"chat": "strong"},
                },
                "mock:coder": {
                    "cost": {"input_per_mtok": 1, "output_per_mtok": 2},
                    "capabilities": {"code": "strong", "reasoning": "strong"},
                },
                "mock:tiny": {"context_window": 20},
            },
            "groups": groups,
        }
    )
    sink = InMemoryUsageSink()
    return ModelService(ModelRegistry.from_config(cfg), ledger=sink, caller="t"), sink


def test_group_fails_over_with_one_usage_event_per_attempt() -> None:
    svc, sink = make_service(
        {"smart": {"members": ["down:a", "mock:cheap"], "retry": FAST_RETRY, "aliases": ["s"]}}
    )
    resp = svc.invoke_model("smart", "hello", max_tokens=20)
    assert resp.model_id == "mock:cheap"
    assert resp.attempts == 2
    events = [(e.model_id, e.attempt, e.group, e.status, e.error_type) for e in sink.events]
    assert events == [
        ("down:a", 1, "smart", "error", "ProviderUnavailableError"),
        ("mock:cheap", 2, "smart", "ok", None),
    ]
    assert sink.events[1].cost_usd is not None and sink.events[1].caller == "t"
    assert svc("s", "again").model_id == "mock:cheap"  # the alias routes too
    health = svc.health()["groups"]["smart"]
    assert [m["errors"] for m in health["members"]] == [2, 0]


def test_all_members_fail_with_every_attempt() -> None:
    svc, sink = make_service({"g": {"members": ["down:a", "down:b"], "retry": FAST_RETRY}})
    with pytest.raises(AllModelsFailedError) as info:
        svc.invoke_model("g", "hello")
    assert len(info.value.attempts) == 4  # two members × two passes
    assert [e.attempt for e in sink.events] == [1, 2, 3, 4]
    assert {e.status for e in sink.events} == {"error"}


def test_authentication_errors_are_not_retried() -> None:
    svc, sink = make_service({"g": {"members": ["badkey:a", "down:b"], "retry": FAST_RETRY}})
    with pytest.raises(AllModelsFailedError):
        svc.invoke_model("g", "hello")
    assert [(e.model_id, e.attempt) for e in sink.events] == [
        ("badkey:a", 1),
        ("down:b", 2),
        ("down:b", 3),  # only the retryable member gets a second pass
    ]


def test_context_window_skip_reason_reaches_the_error() -> None:
    svc, sink = make_service({"g": {"members": ["mock:tiny"]}})
    with pytest.raises(AllModelsFailedError, match=r"mock:tiny: context window 20 < ~"):
        svc.invoke_model("g", "word " * 100)
    assert sink.events == []


def test_async_group_call() -> None:
    svc, sink = make_service({"g": {"members": ["down:a", "mock:cheap"], "retry": FAST_RETRY}})
    resp = asyncio.run(svc.ainvoke_model("g", "hello"))
    assert resp.model_id == "mock:cheap"
    assert [e.attempt for e in sink.events] == [1, 2]


def test_stream_fails_over_before_the_first_token() -> None:
    svc, sink = make_service({"g": {"members": ["down:a", "mock:cheap"], "retry": FAST_RETRY}})
    events = list(svc.stream_model("g", "hello"))
    assert events[-1].done and events[-1].model_id == "mock:cheap"
    assert "".join(e.text for e in events)
    assert [(e.attempt, e.status, e.stream) for e in sink.events] == [
        (1, "error", True),
        (2, "ok", True),
    ]


def test_stream_cut_after_the_first_token_is_not_failed_over(cut_provider: None) -> None:
    svc, sink = make_service(
        {"g": {"members": ["cut:a", "mock:cheap"], "retry": FAST_RETRY}},
        cut={"type": "cutmock"},
    )
    got: list[str] = []
    with pytest.raises(ProviderUnavailableError, match="stream cut"):
        for event in svc.stream_model("g", "hello"):
            got.append(event.text)
    assert len(got) == 1 and got[0]
    assert [(e.model_id, e.status) for e in sink.events] == [("cut:a", "error")]


def test_group_stream_closed_early_records_cancelled_and_raises_nothing() -> None:
    # The group's attempt gets the consumer's leaving thrown in (not closed), so it can close
    # the provider's stream (an effect it yields) before it ends.
    svc, sink = make_service({"g": {"members": ["mock:cheap"], "retry": FAST_RETRY}})
    stream = svc.stream_model("g", "stream please a long answer")
    assert next(stream).text
    stream.close()

    async def leave_early() -> None:
        events = svc.astream_model("g", "stream please a long answer")
        assert (await anext(events)).text
        await events.aclose()

    asyncio.run(leave_early())
    assert [(e.model_id, e.group, e.status) for e in sink.events] == [
        ("mock:cheap", "g", "cancelled"),
        ("mock:cheap", "g", "cancelled"),
    ]
    assert svc.health()["groups"]["g"]["members"][0]["state"] == "closed"


def test_async_stream_fails_over() -> None:
    svc, sink = make_service({"g": {"members": ["down:a", "mock:cheap"], "retry": FAST_RETRY}})

    async def collect() -> list[StreamEvent]:
        return [e async for e in svc.astream_model("g", "hello")]

    events = asyncio.run(collect())
    assert events[-1].model_id == "mock:cheap"
    assert [e.attempt for e in sink.events] == [1, 2]


def test_batch_through_a_group() -> None:
    svc, sink = make_service({"g": {"members": ["down:a", "mock:cheap"], "retry": FAST_RETRY}})
    results = svc.invoke_batch("g", ["a", "b", "c", "d"], max_concurrency=4)
    assert all(r.ok for r in results)
    assert {r.response.model_id for r in results if r.response} == {"mock:cheap"}
    assert sum(1 for e in sink.events if e.status == "ok") == 4


def test_task_aware_group_and_hints() -> None:
    svc, _ = make_service(
        {"ta": {"strategy": "task_aware", "members": ["mock:cheap", "mock:coder"]}}
    )
    assert svc("ta", "Write a Python function that adds two numbers").model_id == "mock:coder"
    assert svc("ta", "Hi, how are you?").model_id == "mock:cheap"
    assert svc("ta", "hello", task_type="code_generation").model_id == "mock:coder"
    assert svc("ta", "hello", capabilities=["chat:strong"]).model_id == "mock:cheap"


def test_auto_picks_the_best_registered_model() -> None:
    svc, _ = make_service({})
    assert svc("auto", "Write a Python function to parse dates").model_id == "mock:coder"
    assert svc("auto", "Hello!", capabilities={"chat": "strong"}).model_id == "mock:cheap"


def test_groups_added_in_code() -> None:
    svc, _ = make_service({})
    svc.groups.add(ModelGroup("mine", ["down:x", "mock:cheap"], retry=None))
    assert svc("mine", "hi").model_id == "mock:cheap"
    assert svc.groups.names() == ["mine"]
    with pytest.raises(ValueError, match="already exists"):
        svc.groups.add(ModelGroup("mine", ["mock:cheap"]))
    svc.groups.remove("mine")
    assert svc.groups.get("mine") is None


def test_hint_parsing() -> None:
    params: dict[str, Any] = {"task_type": "code-generation", "capabilities": "code:strong"}
    hints = pop_hints(params)
    assert params == {}
    assert hints is not None and hints.task_type is TaskType.CODE_GENERATION
    assert dict(hints.capabilities or {}) == {"code": 3}
    assert pop_hints({"max_tokens": 3}) is None
    assert parse_capabilities(["reasoning", "math:exceptional"]) == {"reasoning": 2, "math": 4}
    assert parse_capabilities({"chat": "basic"}) == {"chat": 1}
    assert parse_capabilities(None) == {}


def test_member_params_defaults_apply_per_member(recording_provider: list[ChatRequest]) -> None:
    cfg = Config.model_validate(
        {
            "providers": {"rec": {"type": "recmock"}},
            "models": {"rec:warm": {"params": {"temperature": 0.7}}, "rec:plain": {}},
            "groups": {"g": {"strategy": "round_robin", "members": ["rec:warm", "rec:plain"]}},
        }
    )
    svc = ModelService(ModelRegistry.from_config(cfg))
    svc("g", "hi", max_tokens=5)
    svc("g", "hi", max_tokens=5)
    warm, plain = recording_provider
    assert (warm.temperature, warm.max_tokens) == (0.7, 5)
    assert (plain.temperature, plain.max_tokens) == (None, 5)


def test_model_fallbacks_run_as_a_failover_chain() -> None:
    cfg = Config.model_validate(
        {
            "providers": {
                "mock": {"type": "mock"},
                "down": {"type": "mock", "error_rate": 1.0, "error_kinds": ["server"]},
            },
            "models": {"down:main": {"fallbacks": ["mock:spare"], "aliases": ["main"]}},
            "retry": {"base_delay_s": 0.0, "max_delay_s": 0.0},
        }
    )
    sink = InMemoryUsageSink()
    svc = ModelService(ModelRegistry.from_config(cfg), ledger=sink)
    resp = svc("main", "hello")
    assert resp.model_id == "mock:spare" and resp.attempts == 2
    assert [(e.model_id, e.attempt, e.group, e.status) for e in sink.events] == [
        ("down:main", 1, "down:main", "error"),
        ("mock:spare", 2, "down:main", "ok"),
    ]
    chain = svc.groups.get("down:main")
    assert chain is not None and chain.members == ("down:main", "mock:spare")
    assert svc.groups.get("main") is chain  # one chain per model, whatever name reaches it
    assert chain.retry.max_attempts == 3  # 1 + the provider entry's max_retries (2)
    assert svc.groups.get("mock:spare") is None  # no fallbacks: a plain model
    assert svc.groups.get("nope:x") is None


def test_group_shared_by_threads_and_an_event_loop() -> None:
    svc, sink = make_service(
        {
            "g": {
                "strategy": "round_robin",
                "members": ["flaky:a", "mock:cheap"],
                "retry": FAST_RETRY,
                "circuit_breaker": {"failure_threshold": 1000, "min_calls": 1000},
            }
        },
        flaky={"type": "mock", "error_rate": 0.5, "error_kinds": ["server"], "seed": 3},
    )

    async def many() -> list[str]:
        resps = await asyncio.gather(*(svc.ainvoke_model("g", f"q{i}") for i in range(60)))
        return [r.model_id for r in resps]

    with ThreadPoolExecutor(4) as pool:
        threaded = pool.map(lambda i: svc("g", f"t{i}").model_id, range(60))
        from_loop = asyncio.run(many())
        from_threads = list(threaded)
    answers = from_loop + from_threads
    assert len(answers) == 120
    assert set(answers) == {"flaky:a", "mock:cheap"}  # both serve; flaky failures fail over
    ok = [e for e in sink.events if e.status == "ok"]
    errors = [e for e in sink.events if e.status == "error"]
    assert len(ok) == 120
    assert errors and all(e.model_id == "flaky:a" for e in errors)
    members = {m["model_id"]: m for m in svc.health()["groups"]["g"]["members"]}
    assert members["flaky:a"]["errors"] == len(errors)
    assert sum(m["calls"] for m in members.values()) == len(sink.events)


def test_groups_follow_a_replaced_configuration() -> None:
    svc, _ = make_service(
        {
            "same": {"members": ["mock:cheap"]},
            "changed": {"members": ["mock:cheap"]},
        }
    )
    svc.groups.add(ModelGroup("mine", ["mock:coder"]))
    same, changed = svc.groups.get("same"), svc.groups.get("changed")
    svc("same", "hi")
    new_groups = {
        "same": {"members": ["mock:cheap"]},
        "changed": {"members": ["mock:coder"], "strategy": "round_robin"},
        "fresh": {"members": ["mock:cheap"], "aliases": ["f"]},
    }
    svc.registry.config = svc.registry.config.model_copy(
        update={"groups": Config.model_validate({"groups": new_groups}).groups}
    )
    assert svc.groups.get("same") is same  # unchanged: keeps its breakers and stats
    assert svc.groups.get("same").health()["members"][0]["calls"] == 1  # type: ignore[union-attr]
    new_changed = svc.groups.get("changed")
    assert new_changed is not changed and new_changed is not None
    assert new_changed.strategy.name == "round_robin"
    assert svc.groups.get("f") is svc.groups.get("fresh") is not None
    assert svc.groups.names() == ["changed", "fresh", "mine", "same"]  # code-added survives
    with pytest.raises(ValueError, match="comes from configuration"):
        svc.groups.remove("same")

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from modelwire.errors import ModelNotFoundError, ModelwireError
from modelwire.providers.factory import ModelFactory
from modelwire.providers.mock import MockChatModel
from modelwire.registry.model_registry import DuplicateModelError, ModelRegistry
from modelwire.types import ChatRequest, ModelCost, ModelInfo
from tests.support.helpers import mock_registry


def test_register_get_and_aliases() -> None:
    registry = mock_registry()
    registry.register_model(ModelInfo(id="mock:fast", aliases=("quick",)))
    model = registry.get_model("mock:fast")
    assert isinstance(model, MockChatModel)
    assert registry.get_model("quick") is model
    assert registry.resolve("quick") == "mock:fast"
    assert registry.resolve("fast") == "mock:fast"  # an unambiguous bare name
    assert registry.is_registered("quick") and "mock:fast" in registry
    assert registry.get_model_info("quick").name == "fast"


def test_duplicate_registration_needs_replace() -> None:
    registry = mock_registry("mock:a")
    with pytest.raises(DuplicateModelError):
        registry.register_model(ModelInfo(id="mock:a"))
    registry.register_model(ModelInfo(id="mock:a", context_window=10), replace=True)
    assert registry.get_model_info("mock:a").context_window == 10


def test_alias_collision_is_rejected() -> None:
    registry = mock_registry()
    registry.register_model(ModelInfo(id="mock:a", aliases=("x",)))
    with pytest.raises(DuplicateModelError, match="alias 'x'"):
        registry.register_model(ModelInfo(id="mock:b", aliases=("x",)))
    assert not registry.is_registered("mock:b")  # nothing half-registered


def test_unknown_provider_and_did_you_mean() -> None:
    registry = mock_registry("mock:gpt-4o-mini")
    with pytest.raises(ModelNotFoundError) as info:
        registry.resolve("mokc:gpt-4o-mini")
    assert "mock:gpt-4o-mini" in info.value.suggestions
    assert "did you mean" in str(info.value)
    with pytest.raises(ModelNotFoundError, match="did you mean"):
        registry.resolve("gpt-4o-mnii")


def test_open_provider_accepts_any_id() -> None:
    registry = mock_registry()
    model = registry.get_model("mock:anything-at-all")
    assert model.info.id == "mock:anything-at-all"
    assert registry.is_registered("mock:anything-at-all")


def test_unregister_and_in_flight_calls_finish() -> None:
    registry = mock_registry("mock:a", latency_ms=50)
    old = registry.get_model("mock:a")
    results: list[str] = []
    t = threading.Thread(target=lambda: results.append(old.invoke(ChatRequest.build("hi")).text))
    t.start()
    registry.register_model(ModelInfo(id="mock:a", context_window=5), replace=True)
    new = registry.get_model("mock:a")
    t.join(5)
    assert results and results[0]  # the old instance finished its call
    assert new is not old and new.info.context_window == 5
    registry.unregister_model("mock:a")
    assert not registry.is_registered("mock:a")
    with pytest.raises(ModelNotFoundError):
        registry.unregister_model("mock:a")


def test_find_models_by_capability_price_and_context() -> None:
    registry = mock_registry()
    registry.register_model(
        ModelInfo(
            id="mock:cheap",
            cost=ModelCost(input_per_mtok="0.1", output_per_mtok="0.4"),
            context_window=8000,
            capabilities={"code": "moderate"},
        )
    )
    registry.register_model(
        ModelInfo(
            id="mock:smart",
            cost=ModelCost(input_per_mtok="3", output_per_mtok="15"),
            context_window=200_000,
            capabilities={"code": "exceptional"},
        )
    )
    registry.register_model(ModelInfo(id="mock:unpriced", capabilities={"code": "strong"}))
    assert [i.id for i in registry.find_models(capabilities={"code": "strong"})] == [
        "mock:smart",
        "mock:unpriced",
    ]
    assert [i.id for i in registry.find_models(max_input_cost_per_mtok=1)] == ["mock:cheap"]
    assert [i.id for i in registry.find_models(min_context=100_000)] == ["mock:smart"]


def test_stats_and_close() -> None:
    registry = mock_registry("mock:a", "mock:b")
    registry.get_model("mock:a")
    stats = registry.stats()
    assert stats["models"] == 2 and stats["instantiated"] == 1 and stats["providers"] == 1
    closed = []
    registry.provider("mock").client("x", lambda: object(), lambda c: closed.append(c))
    registry.close()
    assert len(closed) == 1


def test_register_for_unknown_provider_fails() -> None:
    registry = mock_registry()
    with pytest.raises(ModelwireError, match="not configured"):
        registry.register_model(ModelInfo(id="nowhere:x"))


class _Counting(MockChatModel):
    built = 0
    lock = threading.Lock()
    fail_first = False

    def __init__(self, *args: object, **kwargs: object) -> None:
        with _Counting.lock:
            _Counting.built += 1
            if _Counting.fail_first and _Counting.built == 1:
                raise RuntimeError("first construction fails")
        threading.Event().wait(0.01)  # widen the race window
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]


@pytest.fixture
def counting_factory() -> ModelFactory:
    _Counting.built = 0
    _Counting.fail_first = False
    ModelFactory.register_provider("counting", _Counting)
    yield ModelFactory()  # type: ignore[misc]
    ModelFactory.unregister_provider("counting")


def test_64_threads_construct_once(counting_factory: ModelFactory) -> None:
    from modelwire.config.schema import Config

    cfg = Config.model_validate({"providers": {"c": {"type": "counting"}}})
    registry = ModelRegistry(factory=counting_factory, config=cfg)
    registry.register_model(ModelInfo(id="c:model"))
    barrier = threading.Barrier(64)

    def get(_: int) -> object:
        barrier.wait()
        return registry.get_model("c:model")

    with ThreadPoolExecutor(64) as pool:
        objs = list(pool.map(get, range(64)))
    assert _Counting.built == 1
    assert len({id(o) for o in objs}) == 1


def test_failed_construction_is_not_cached(counting_factory: ModelFactory) -> None:
    from modelwire.config.schema import Config

    _Counting.fail_first = True
    cfg = Config.model_validate({"providers": {"c": {"type": "counting"}}})
    registry = ModelRegistry(factory=counting_factory, config=cfg)
    registry.register_model(ModelInfo(id="c:model"))
    with pytest.raises(RuntimeError):
        registry.get_model("c:model")
    assert registry.get_model("c:model") is registry.get_model("c:model")
    assert _Counting.built == 2


def test_catalog_snapshot_ids_register_on_first_use() -> None:
    from modelwire.config.schema import Config

    cfg = Config.model_validate({"providers": {"anthropic": {"api_key": "k"}, "mock": {}}})
    registry = ModelRegistry.from_config(cfg)
    info = registry.get_model_info("anthropic:claude-sonnet-4-5-20250929")
    family = registry.get_model_info("anthropic:claude-sonnet-4-5")
    assert info.cost == family.cost and info.source == "catalog"
    with pytest.raises(ModelNotFoundError):
        registry.resolve("anthropic:claude-not-a-model")  # closed provider: no invention
    assert registry.get_model_info("mock:gemini-1.5-flash").available  # retired, but a stand-in


def test_invalid_price_is_a_validation_error() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="price"):
        ModelCost(input_per_mtok="abc")

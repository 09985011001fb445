from __future__ import annotations

import pytest

import modelwire as mw
from modelwire.access import ModelNamespace, default_service, set_default_service
from modelwire.config.schema import Config
from modelwire.enums import ModelEnum
from modelwire.errors import ModelNotFoundError
from modelwire.registry.model_registry import ModelRegistry
from modelwire.service.model_service import ModelService
from modelwire.types import ModelInfo
from modelwire.usage.events import InMemoryUsageSink

MOCK = {"type": "mock"}


@pytest.fixture
def service() -> ModelService:
    cfg = Config.model_validate(
        {
            "providers": {"openai": MOCK, "anthropic": MOCK, "google": MOCK},
            "models": {"openai:gpt-4o-mini": {"aliases": ["mini"]}},
        }
    )
    svc = ModelService(ModelRegistry.from_config(cfg), InMemoryUsageSink())
    set_default_service(svc)
    yield svc
    set_default_service(None)


def test_three_access_styles_reach_the_same_model(service: ModelService) -> None:
    registry = service.registry
    by_string = registry.get_model("openai:gpt-4o-mini")
    assert registry.get_model("mini") is by_string
    assert registry.get_model(ModelEnum.OPENAI_GPT_4O_MINI) is by_string
    bound = mw.models.openai.gpt_4o_mini
    assert bound.model == "openai:gpt-4o-mini"
    assert registry.get_model(bound.model) is by_string
    assert bound("Hello").text == service.invoke_model("mini", "Hello").text
    assert service(ModelEnum.OPENAI_GPT_4O_MINI, "Hello").model_id == "openai:gpt-4o-mini"


def test_enum_is_a_str_enum() -> None:
    assert ModelEnum.OPENAI_GPT_4O_MINI == "openai:gpt-4o-mini"
    assert isinstance(ModelEnum.OPENAI_GPT_4O_MINI, str)


@pytest.mark.parametrize(
    ("provider", "attr", "expected"),
    [
        ("anthropic", "claude_sonnet_4_5", "anthropic:claude-sonnet-4-5"),
        ("google", "gemini_2_5_flash", "google:gemini-2.5-flash"),
        ("openai", "gpt_4o_mini", "openai:gpt-4o-mini"),
    ],
)
def test_namespace_names_match_dots_and_dashes(
    service: ModelService, provider: str, attr: str, expected: str
) -> None:
    assert getattr(getattr(mw.models, provider), attr).model == expected


def test_namespace_catalog_prices_apply_to_mock_stand_ins(service: ModelService) -> None:
    resp = mw.models.anthropic.claude_sonnet_4_5("hi")
    assert resp.cost_usd is not None and resp.cost_usd > 0


def test_unknown_provider_suggests(service: ModelService) -> None:
    with pytest.raises(ModelNotFoundError, match=r"models\.openai"):
        _ = mw.models.opneai


def test_ambiguous_namespace_name_is_an_error() -> None:
    cfg = Config.model_validate({"providers": {"p": {"type": "openai_compatible"}}})
    registry = ModelRegistry(config=cfg)
    registry.register_model(ModelInfo(id="p:llama-3.1"))
    registry.register_model(ModelInfo(id="p:llama_3_1"))
    ns = ModelNamespace(ModelService(registry))
    with pytest.raises(ModelNotFoundError, match="ambiguous"):
        _ = ns.p.llama_3_1


def test_default_service_is_built_lazily_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODELWIRE_USAGE__ENABLED", "false")
    set_default_service(None)
    try:
        first = default_service()
        assert first is default_service()
        assert "mock" in first.registry.providers
    finally:
        set_default_service(None)

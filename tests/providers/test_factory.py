from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from modelwire.config.provider_types import PROVIDER_TYPES, ProviderType
from modelwire.config.schema import Config
from modelwire.errors import ConfigError
from modelwire.providers.base import ChatModel, ProviderContext
from modelwire.providers.factory import MissingDependencyError, ModelFactory, ProviderInterfaceError
from modelwire.providers.mock import MockChatModel
from modelwire.registry.model_registry import ModelRegistry
from modelwire.types import ChatRequest, ChatResponse, ModelInfo, StreamEvent


class Incomplete:
    def invoke(self, request: ChatRequest) -> ChatResponse:
        raise NotImplementedError


class Echo(ChatModel):
    def invoke(self, request: ChatRequest) -> ChatResponse:
        return ChatResponse(text=request.messages[-1].content, model_id=self.info.id)

    async def ainvoke(self, request: ChatRequest) -> ChatResponse:
        return self.invoke(request)

    def stream(self, request: ChatRequest) -> Iterator[StreamEvent]:
        yield StreamEvent(text=self.invoke(request).text)
        yield StreamEvent(done=True)

    async def astream(self, request: ChatRequest) -> AsyncIterator[StreamEvent]:
        yield StreamEvent(text=self.invoke(request).text)
        yield StreamEvent(done=True)

    @classmethod
    def list_models(cls, provider: ProviderContext) -> list[ModelInfo]:
        return []


def test_interface_check_names_what_is_missing() -> None:
    with pytest.raises(ProviderInterfaceError) as info:
        ModelFactory.register_provider("bad", Incomplete)  # type: ignore[arg-type]
    message = str(info.value)
    for name in ("ainvoke", "stream", "astream", "list_models"):
        assert name in message
    assert "'invoke'" not in message


def test_registered_provider_is_built_through_config() -> None:
    ModelFactory.register_provider("echo", Echo)
    try:
        cfg = Config.model_validate({"providers": {"mine": {"type": "echo"}}})
        registry = ModelRegistry(config=cfg)
        registry.register_model(ModelInfo(id="mine:e1"))
        model = registry.get_model("mine:e1")
        assert isinstance(model, Echo)
        assert (
            registry.factory.create_model(registry.get_model_info("mine:e1")).info.id == "mine:e1"
        )
        assert model.invoke(ChatRequest.build("ping")).text == "ping"
    finally:
        ModelFactory.unregister_provider("echo")


def test_unknown_type_lists_known_types() -> None:
    with pytest.raises(ConfigError, match=r"known types: .*mock"):
        ModelFactory().provider_class("nope")


def test_builtin_mock_class() -> None:
    assert ModelFactory().provider_class("mock") is MockChatModel


def test_missing_sdk_names_the_extra() -> None:
    class NeedsSdk(Echo):
        requires = ("surely_not_installed_sdk",)
        extra = "surely"

    ModelFactory.register_provider("needs", NeedsSdk)
    try:
        cfg = Config.model_validate({"providers": {"n": {"type": "needs"}}})
        registry = ModelRegistry(config=cfg)
        registry.register_model(ModelInfo(id="n:m"))
        with pytest.raises(MissingDependencyError, match=r"pip install 'modelwire\[surely\]'"):
            registry.get_model("n:m")
    finally:
        ModelFactory.unregister_provider("needs")


def test_entry_point_plugins_are_loaded(monkeypatch: pytest.MonkeyPatch) -> None:
    class FakeEntryPoint:
        name = "plug"

        def load(self) -> type[ChatModel]:
            return Echo

    monkeypatch.setattr(
        PROVIDER_TYPES, "_plugins", {"plug": ProviderType("plug", FakeEntryPoint())}
    )
    factory = ModelFactory()
    assert "plug" in factory.known_types()
    assert factory.provider_class("plug") is Echo


def test_unbound_factory_explains() -> None:
    from modelwire.errors import ModelwireError

    with pytest.raises(ModelwireError, match="not bound"):
        ModelFactory().create_model(ModelInfo(id="mock:x"))


def test_the_table_of_provider_types_agrees_with_the_model_classes() -> None:
    from modelwire.config.provider_types import BUILTIN_TYPES

    factory = ModelFactory()
    for name, entry in BUILTIN_TYPES.items():
        cls = factory.provider_class(name)
        assert entry.open_model_set() is cls.open_model_set, name
        assert entry.settings_class() is cls.config_model, name

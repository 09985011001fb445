"""``ModelService.routes``: names resolved once, and resolved again after anything they depend on
changes (the registry's models, its configuration, the service's groups)."""

from __future__ import annotations

import pytest

from modelwire.config.schema import Config
from modelwire.errors import ModelNotFoundError
from modelwire.registry.model_registry import ModelRegistry
from modelwire.routing.group import ModelGroup
from modelwire.service.model_service import ModelService
from modelwire.types import ModelInfo
from tests.support.helpers import mock_registry


def _service() -> ModelService:
    return ModelService(mock_registry("mock:a", "mock:b"))


def test_a_direct_route_is_resolved_once() -> None:
    service = _service()
    first = service.routes.resolve("mock:a")
    assert isinstance(first, tuple)
    model, policy = first
    assert model is service.registry.get_model("mock:a")
    assert policy is service.policies.for_model(model.info)
    assert service.routes.resolve("mock:a") is first


def test_replacing_a_model_is_seen_by_the_next_call() -> None:
    service = _service()
    old_model, _ = service.routes.resolve("mock:a")  # type: ignore[misc]
    service.invoke_model("mock:a", "hi")
    service.registry.replace_model(ModelInfo(id="mock:a", params={"max_tokens": 3}))
    new_model, _ = service.routes.resolve("mock:a")  # type: ignore[misc]
    assert new_model is not old_model
    assert new_model.info.params == {"max_tokens": 3}
    assert service.invoke_model("mock:a", "one two three four five").usage.output_tokens <= 3


def test_a_removed_model_is_not_served_from_the_cache() -> None:
    registry = ModelRegistry.from_config(
        Config.model_validate({"providers": {"openai": {"api_key": "sk-test"}}}), catalog=False
    )
    registry.register_model(ModelInfo(id="openai:tuned"))
    service = ModelService(registry)
    assert isinstance(service.routes.resolve("openai:tuned"), tuple)
    registry.unregister_model("openai:tuned")
    with pytest.raises(ModelNotFoundError):
        service.routes.resolve("openai:tuned")


def test_a_group_added_under_a_resolved_name_takes_over() -> None:
    service = _service()
    assert isinstance(service.routes.resolve("mock:a"), tuple)
    group = service.groups.add(ModelGroup("mock:a", ["mock:b"]))
    assert service.routes.resolve("mock:a") is group
    assert service.invoke_model("mock:a", "hi").model_id == "mock:b"
    service.groups.remove("mock:a")
    assert isinstance(service.routes.resolve("mock:a"), tuple)


def test_a_new_configuration_gives_new_retry_policies() -> None:
    service = _service()
    _, policy = service.routes.resolve("mock:a")  # type: ignore[misc]
    retry = service.registry.config.retry.model_copy(update={"max_attempts": 7})
    service.registry.reload(service.registry.config.model_copy(update={"retry": retry}))
    _, new_policy = service.routes.resolve("mock:a")  # type: ignore[misc]
    assert new_policy is not policy

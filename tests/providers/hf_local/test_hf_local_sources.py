"""huggingface_local model names: local paths that are missing, and checkpoints that appear later.

A name that can only be a path never reaches the Hub: when it names no directory the error says
so and names the directories looked at. A failed lookup or load is not cached: a checkpoint
added under ``model_dir`` after a failed call is used by the next call on the same registry and
model object.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # nothing may reach the Hub
torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
pytest.importorskip("tokenizers")
torch.set_num_threads(1)

from modelwire import errors  # noqa: E402
from modelwire.config.schema import Config, HuggingFaceLocalConfig  # noqa: E402
from modelwire.providers.hf_local import engine as engine_module  # noqa: E402
from modelwire.providers.hf_local.loader import (  # noqa: E402
    MissingCheckpointError,
    looks_like_path,
    resolve_source,
)
from modelwire.providers.hf_local.provider import HuggingFaceLocalChatModel  # noqa: E402
from modelwire.registry import ModelRegistry  # noqa: E402
from modelwire.service import ModelService  # noqa: E402
from modelwire.types import ChatRequest  # noqa: E402
from tests.support.hf_tiny_models import build_gpt2  # noqa: E402


def _registry(model_dir: Path | None, **models: Any) -> ModelRegistry:
    provider: dict[str, Any] = {"type": "huggingface_local", "local_files_only": True}
    if model_dir is not None:
        provider["model_dir"] = str(model_dir)
    config = Config.model_validate({"providers": {"hf": provider}, "models": models})
    return ModelRegistry.from_config(config, catalog=False)


@pytest.fixture
def no_hub(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record every name ``transformers`` is asked to read a configuration for."""
    asked: list[str] = []
    real = transformers.AutoConfig.from_pretrained

    def recording(name: Any, *args: Any, **kwargs: Any) -> Any:
        asked.append(str(name))
        return real(name, *args, **kwargs)

    monkeypatch.setattr(transformers.AutoConfig, "from_pretrained", recording)
    return asked


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[ModelRegistry]:
    reg = _registry(tmp_path / "models")
    yield reg
    reg.close()


@pytest.mark.parametrize(
    ("name", "where"),
    [
        ("{tmp}/absent/model", "{tmp}/absent/model"),
        ("./absent-model", "{cwd}/absent-model"),
        ("../absent-model", "{cwd_parent}/absent-model"),
        ("~/modelwire-absent-model", "{home}/modelwire-absent-model"),
        ("absent/deeper/model", "{cwd}/absent/deeper/model"),
        ("absent\\model", "absent\\model"),
    ],
)
def test_a_missing_local_path_says_so_and_never_asks_the_hub(
    tmp_path: Path, no_hub: list[str], name: str, where: str
) -> None:
    fill = {
        "tmp": str(tmp_path),
        "cwd": str(Path.cwd()),
        "cwd_parent": str(Path.cwd() / ".."),
        "home": str(Path.home()),
    }
    name, where = name.format(**fill), where.format(**fill)
    registry = _registry(None)
    try:
        with pytest.raises(MissingCheckpointError) as caught:
            ServiceCall(registry).invoke(f"hf:{name}")
    finally:
        registry.close()
    message = str(caught.value)
    assert f"cannot load {name!r}: no checkpoint directory at " in message
    assert where in message
    assert "Repo id" not in message and "huggingface.co" not in message
    assert "\n" not in message
    assert isinstance(caught.value, errors.InvalidRequestError)  # never retried
    assert no_hub == []


def test_a_relative_path_names_both_places_looked_at(tmp_path: Path, no_hub: list[str]) -> None:
    registry = _registry(tmp_path / "models")
    try:
        with pytest.raises(MissingCheckpointError) as caught:
            ServiceCall(registry).invoke("hf:./absent-model")
    finally:
        registry.close()
    assert (
        f"no checkpoint directory at {tmp_path / 'models' / 'absent-model'} "
        f"or {Path.cwd() / 'absent-model'}"
    ) in str(caught.value)
    assert no_hub == []


def test_a_file_where_a_checkpoint_should_be_is_named(tmp_path: Path) -> None:
    (tmp_path / "weights.bin").write_bytes(b"")
    settings = HuggingFaceLocalConfig(type="huggingface_local")
    with pytest.raises(MissingCheckpointError, match=r"weights\.bin \(a file\)"):
        resolve_source(str(tmp_path / "weights.bin"), settings, provider="hf", model_id="hf:x")


def test_a_name_missing_under_model_dir_names_that_directory(
    registry: ModelRegistry, tmp_path: Path
) -> None:
    with pytest.raises(MissingCheckpointError) as caught:
        ServiceCall(registry).invoke("hf:later-gpt2")
    message = str(caught.value)
    assert (
        f"cannot load 'later-gpt2': no checkpoint directory at "
        f"{tmp_path / 'models' / 'later-gpt2'} (model_dir), and not from the Hub: "
    ) in message
    assert "\n" not in message


def test_a_checkpoint_added_after_a_failed_call_is_used_by_the_next_call(
    registry: ModelRegistry, tmp_path: Path, no_hub: list[str]
) -> None:
    call = ServiceCall(registry)
    model = registry.get_model("hf:later-gpt2")
    for _ in range(2):  # failing again does not make it stick either
        with pytest.raises(MissingCheckpointError):
            call.invoke("hf:later-gpt2")
    build_gpt2(tmp_path / "models" / "later-gpt2")
    answer = call.invoke("hf:later-gpt2")
    assert answer.usage.output_tokens == 2
    assert registry.get_model("hf:later-gpt2") is model  # the same registry and model object
    assert isinstance(model, HuggingFaceLocalChatModel) and model.handle().loaded
    assert model.handle().source == str(tmp_path / "models" / "later-gpt2")
    assert no_hub[-1] == str(tmp_path / "models" / "later-gpt2")


def test_a_local_path_that_appears_later_is_used(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere" / "gpt2"
    registry = _registry(None, **{"hf:mine": {"name": str(target)}})
    try:
        call = ServiceCall(registry)
        with pytest.raises(MissingCheckpointError, match=str(target)):
            call.invoke("hf:mine")
        build_gpt2(target)
        assert call.invoke("hf:mine").usage.output_tokens == 2
    finally:
        registry.close()


def test_a_load_failing_inside_transformers_is_retried(
    registry: ModelRegistry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    build_gpt2(tmp_path / "models" / "tiny-gpt2")
    real = engine_module.load_model
    attempts: list[str] = []

    def flaky(source: str, *args: Any, **kwargs: Any) -> Any:
        attempts.append(source)
        if len(attempts) == 1:
            raise errors.ProviderError("disk hiccup", provider="hf", model_id="hf:tiny-gpt2")
        return real(source, *args, **kwargs)

    monkeypatch.setattr(engine_module, "load_model", flaky)
    call = ServiceCall(registry)
    with pytest.raises(errors.ProviderError, match="disk hiccup"):
        call.invoke("hf:tiny-gpt2")
    assert call.invoke("hf:tiny-gpt2").usage.output_tokens == 2
    assert len(attempts) == 2


def test_a_loaded_checkpoint_is_kept_until_closed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Once loaded, a model keeps its checkpoint (no second copy in memory) until close."""
    models = tmp_path / "models"
    build_gpt2(models / "first")
    registry_with_path = _registry(models, **{"hf:pinned": {"name": str(models / "first")}})
    try:
        call = ServiceCall(registry_with_path)
        call.invoke("hf:pinned")
        model = registry_with_path.get_model("hf:pinned")
        assert isinstance(model, HuggingFaceLocalChatModel)
        loaded_handle = model.handle()
        monkeypatch.setattr(
            HuggingFaceLocalChatModel,
            "source",
            property(lambda self: pytest.fail("looked up again while loaded")),
        )
        call.invoke("hf:pinned")
        assert model.handle() is loaded_handle
        monkeypatch.undo()
        registry_with_path.close()
        assert not loaded_handle.loaded
        call.invoke("hf:pinned")  # after close the name is looked up and loaded again
        assert model.handle().loaded
    finally:
        registry_with_path.close()


class ServiceCall:
    """One short greedy call through the service (no retries: errors surface as raised)."""

    def __init__(self, registry: ModelRegistry) -> None:
        self.service = ModelService(registry)

    def invoke(self, model_id: str) -> Any:
        model = self.service.registry.get_model(model_id)
        return model.invoke(ChatRequest.build("one two", max_tokens=2, temperature=0))


_HUB_ID = st.from_regex(
    r"[A-Za-z0-9][A-Za-z0-9_.-]{0,20}(/[A-Za-z0-9][A-Za-z0-9_.-]{0,20})?", fullmatch=True
)


@given(name=_HUB_ID)
def test_hub_ids_are_not_paths(name: str) -> None:
    assert not looks_like_path(name)


@given(
    head=st.sampled_from(["/", "~", "~/", "./", "../", "a/b/", "a\\"]),
    tail=st.text(alphabet="abc-_./", max_size=12),
)
def test_names_only_a_path_can_be_are_paths(head: str, tail: str) -> None:
    assert looks_like_path(head + tail)

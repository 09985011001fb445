"""The ``huggingface`` provider (Inference Providers router) against the loopback fake server."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

pytest.importorskip("openai")

from modelwire import errors
from modelwire.config.schema import Config, ProviderConfig
from modelwire.providers.base import ProviderContext
from modelwire.providers.huggingface import (
    DEFAULT_BASE_URL,
    HuggingFaceChatModel,
    router_model_metadata,
)
from modelwire.registry.model_registry import ModelRegistry
from modelwire.service.model_service import ModelService
from modelwire.types import ChatRequest, ModelInfo, Usage
from tools.fake_provider import FakeProviderServer
from tools.fake_provider import openai_format as oaf
from tools.fake_provider.faults import Fault
from tools.fake_provider.server import Reply, Route, count_tokens

LLAMA = "meta-llama/Llama-3.1-8B-Instruct"


@pytest.fixture
def hf_model(fake_server: FakeProviderServer) -> Iterator[Callable[..., HuggingFaceChatModel]]:
    contexts: list[ProviderContext] = []

    def make(name: str = LLAMA, key: str | None = "hf_test", **cfg: Any) -> HuggingFaceChatModel:
        cfg.setdefault("base_url", fake_server.url + "/v1")
        ctx = ProviderContext("hf", ProviderConfig(type="huggingface", api_key=key, **cfg))
        contexts.append(ctx)
        return HuggingFaceChatModel(ModelInfo(id=f"hf:{name}"), ctx)

    yield make
    for ctx in contexts:
        ctx.close()


def test_invoke_sends_the_hub_model_name_and_the_token(
    fake_server: FakeProviderServer, hf_model: Callable[..., HuggingFaceChatModel]
) -> None:
    resp = hf_model().invoke(ChatRequest.build("hello there", max_tokens=20, system="short"))
    assert resp.text == "echo: hello there"
    assert resp.usage == Usage(input_tokens=3, output_tokens=count_tokens(resp.text))
    assert resp.model_id == f"hf:{LLAMA}"
    (seen,) = fake_server.requests
    assert seen.path == "/v1/chat/completions"
    assert seen.body["model"] == LLAMA
    assert seen.headers["authorization"] == "Bearer hf_test"


def test_router_provider_suffix_stays_in_the_model_name(
    fake_server: FakeProviderServer, hf_model: Callable[..., HuggingFaceChatModel]
) -> None:
    hf_model("deepseek-ai/DeepSeek-R1:novita").invoke(ChatRequest.build("x"))
    assert fake_server.requests[0].body["model"] == "deepseek-ai/DeepSeek-R1:novita"


def test_key_comes_from_hf_token(
    fake_server: FakeProviderServer,
    hf_model: Callable[..., HuggingFaceChatModel],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HF_TOKEN", "hf_from_env")
    hf_model(key=None).invoke(ChatRequest.build("x"))
    assert fake_server.requests[0].headers["authorization"] == "Bearer hf_from_env"


def test_missing_key_fails_before_any_request(
    fake_server: FakeProviderServer, hf_model: Callable[..., HuggingFaceChatModel]
) -> None:
    with pytest.raises(errors.AuthenticationError, match="HF_TOKEN"):
        hf_model(key=None).invoke(ChatRequest.build("x"))
    assert fake_server.requests == []


def test_default_base_url_is_the_router() -> None:
    ctx = ProviderContext("huggingface", ProviderConfig(type="huggingface", api_key="hf_x"))
    try:
        client = HuggingFaceChatModel.sync_client(ctx)
        assert str(client.base_url).rstrip("/") == DEFAULT_BASE_URL
    finally:
        ctx.close()


def test_stream_and_astream(hf_model: Callable[..., HuggingFaceChatModel]) -> None:
    model = hf_model()
    events = list(model.stream(ChatRequest.build("a b c")))
    assert "".join(e.text for e in events) == "echo: a b c"
    assert len(events) > 2 and events[-1].done
    assert events[-1].usage == Usage(input_tokens=3, output_tokens=count_tokens("echo: a b c"))

    async def collect() -> list[Any]:
        return [e async for e in model.astream(ChatRequest.build("d e"))]

    events = asyncio.run(collect())
    assert "".join(e.text for e in events) == "echo: d e" and events[-1].done


def test_errors_are_mapped(
    fake_server: FakeProviderServer, hf_model: Callable[..., HuggingFaceChatModel]
) -> None:
    fake_server.faults.push(Fault(status=429, retry_after="3"))
    with pytest.raises(errors.RateLimitError) as info:
        hf_model().invoke(ChatRequest.build("x"))
    assert info.value.retry_after == 3
    fake_server.accepted_keys = {"hf_right"}
    with pytest.raises(errors.AuthenticationError) as auth:
        hf_model(key="hf_wrong").invoke(ChatRequest.build("x"))
    assert "hf_wrong" not in str(auth.value)


def test_through_registry_and_service(fake_server: FakeProviderServer) -> None:
    cfg = Config.model_validate(
        {
            "providers": {
                "huggingface": {"api_key": "hf_test", "base_url": fake_server.url + "/v1"}
            },
            "models": {
                f"huggingface:{LLAMA}": {
                    "aliases": ["llama8b"],
                    "cost": {"input_per_mtok": "0.02", "output_per_mtok": "0.05"},
                }
            },
        }
    )
    registry = ModelRegistry.from_config(cfg, catalog=False)
    service = ModelService(registry)
    try:
        resp = service.invoke_model("llama8b", "one two three four")
        assert resp.text == "echo: one two three four"
        out = count_tokens(resp.text)
        assert resp.usage == Usage(input_tokens=4, output_tokens=out)
        assert resp.cost_usd == (4 * Decimal("0.02") + out * Decimal("0.05")) / 1_000_000
        # any hub model works without a models: entry (open model set)
        other = service.invoke_model("huggingface:Qwen/Qwen2.5-7B-Instruct", "hi")
        assert other.model_id == "huggingface:Qwen/Qwen2.5-7B-Instruct"
        assert other.cost_usd is None  # no known price
    finally:
        registry.close()


def test_router_metadata_from_a_recorded_listing(golden_dir: Path, snapshot: Any) -> None:
    payload = json.loads((golden_dir / "payloads/huggingface/router_models.json").read_text())
    found = {e["id"]: router_model_metadata(e) for e in payload["data"]}
    rendered = {
        k: None if v is None else {f: str(x) for f, x in sorted(v.items())}
        for k, v in found.items()
    }
    assert rendered == snapshot
    assert found["old-org/retired-model"] is None  # nothing live serves it
    assert "cost" not in (found[LLAMA] or {})  # two live providers, two prices
    assert router_model_metadata({"id": "x"}) == {}


def _router_format(payload: dict[str, Any]) -> Any:
    def models(request: Any, server: Any) -> Reply:
        return Reply(body=payload)

    return SimpleNamespace(
        NAME="hf_router",
        ROUTES=[
            Route("POST", r"/v1/chat/completions", oaf.chat_completions),
            Route("GET", r"/v1/models", models),
        ],
        error_body=oaf.error_body,
    )


def test_list_models_against_a_router_listing(golden_dir: Path) -> None:
    payload = json.loads((golden_dir / "payloads/huggingface/router_models.json").read_text())
    with FakeProviderServer(formats=[_router_format(payload)]) as server:
        ctx = ProviderContext(
            "huggingface",
            ProviderConfig(type="huggingface", api_key="hf_x", base_url=server.url + "/v1"),
        )
        try:
            infos = HuggingFaceChatModel.list_models(ctx)
        finally:
            ctx.close()
    by_id = {i.id: i for i in infos}
    assert list(by_id) == [
        f"huggingface:{LLAMA}",
        "huggingface:Qwen/Qwen2.5-Coder-32B-Instruct",
        "huggingface:deepseek-ai/DeepSeek-R1",
    ]
    coder = by_id["huggingface:Qwen/Qwen2.5-Coder-32B-Instruct"]
    assert coder.context_window == 32768 and coder.cost is not None
    assert str(coder.cost.output_per_mtok) == "0.18"
    assert by_id[f"huggingface:{LLAMA}"].context_window == 8192
    assert all(i.source == "discovered" and i.provider_type == "huggingface" for i in infos)


def test_list_models_against_the_plain_fake_server(
    fake_server: FakeProviderServer, hf_model: Callable[..., HuggingFaceChatModel]
) -> None:
    fake_server.models["openai"] = [LLAMA, "sentence-transformers/all-MiniLM-embed"]
    model = hf_model()
    infos = HuggingFaceChatModel.list_models(model.provider)
    assert [i.id for i in infos] == [f"hf:{LLAMA}"]


def test_list_models_errors_are_mapped(
    fake_server: FakeProviderServer, hf_model: Callable[..., HuggingFaceChatModel]
) -> None:
    fake_server.faults.push(Fault(status=503))
    with pytest.raises(errors.ProviderUnavailableError) as down:
        HuggingFaceChatModel.list_models(hf_model().provider)
    assert isinstance(down.value.__cause__, Exception) and down.value.model_id is None
    fake_server.faults.push(Fault(status=401, message="key hf_wrong is not valid"))
    with pytest.raises(errors.AuthenticationError) as auth:
        HuggingFaceChatModel.list_models(hf_model(key="hf_wrong").provider)
    assert "is not valid" in str(auth.value) and "hf_wrong" not in str(auth.value)
